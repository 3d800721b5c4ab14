"""Is the course longer than its evidence? (``therapy-beyond-evidence``)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from cmvcds.domain.results import Alert, PathwayResult
from cmvcds.domain.vocabulary import (
    AlertCode,
    Severity,
)
from cmvcds.engine.monitoring.courses import Course, evidence_limit
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import DrugLabel
from cmvcds.knowledge.schemas.monitoring import (
    EvidenceDurations,
)


def evidence_alerts(
    result: PathwayResult, knowledge: Knowledge, context: str, course: Course, on: date
) -> None:
    for row in knowledge.table("monitoring_evidence", EvidenceDurations).durations:
        if not row.applies(context, course.drug):
            continue
        limit = evidence_limit(row.months, row.days, course.start)
        beyond = (course.stop is not None and course.stop > limit) or (
            course.stop is None and on > limit
        )
        if not beyond:
            continue
        length = f"{row.months} months" if row.months else f"{row.days} days"
        planned = f"planned to {course.stop}" if course.stop else f"still given on {on}"
        result.alerts.append(
            Alert(
                AlertCode.THERAPY_BEYOND_EVIDENCE,
                Severity.WARNING,
                f"{course.drug} started {course.start} is {planned}, beyond {length} ({limit}): {row.risk}. "
                "Weigh the benefit against the risk; if continued, check the dose on the current weight and the "
                "viral load monthly.",
                result.cite(row, f"evidence duration {row.id}"),
            )
        )


def fixed_phase_overrun(
    result: PathwayResult, knowledge: Knowledge, course: Course, on: date
) -> None:
    """probe11 W6: a course still ordered at a phase's interval after the label's fixed length of
    that phase (cidofovir: induction once weekly for 2 consecutive weeks, then maintenance once
    every 2 weeks; VISTIDE label, Dosage and administration) — a warning naming both."""
    entry = course.current(on)
    label = knowledge.tables.get(f"drug_{course.drug}")
    if not isinstance(label, DrugLabel) or entry.every_h is None or entry.indication is None:
        return
    for row in label.regimens:
        if not (row.fixed_duration and row.duration_days and entry.indication in row.indications):
            continue
        if not any(b.every_h == entry.every_h for b in row.bands):
            continue
        end = course.start + timedelta(days=row.duration_days)
        if on < end:
            return
        then = label.regimen(row.then) if row.then else None
        after = f", then {then.id} {then.bands[0].schedule or _every(then.bands[0].every_h)}" if then else ""
        result.alerts.append(
            Alert(
                AlertCode.THERAPY_BEYOND_EVIDENCE,
                Severity.WARNING,
                f"{course.drug} {entry.indication} started {course.start} is still ordered every "
                f"{entry.every_h:g} h on {on} (day {(on - course.start).days}): the label's "
                f"{entry.indication} is {row.duration}{after} (ended {end}). Review the order.",
                result.cite(row, f"{course.drug} {row.id} length"),
            )
        )
        return


def _every(hours: Decimal | None) -> str:
    return f"every {hours:g} h" if hours is not None else ""
