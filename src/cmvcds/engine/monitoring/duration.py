"""Is the course longer than its evidence? (``therapy-beyond-evidence``)."""

from __future__ import annotations

from datetime import date

from cmvcds.domain.results import Alert, PathwayResult
from cmvcds.domain.vocabulary import (
    AlertCode,
    Severity,
)
from cmvcds.engine.monitoring.courses import Course, evidence_limit
from cmvcds.knowledge import Knowledge
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
