"""Is a course held for toxicity ready to resume?

A course whose last entry stopped with ``stop_reason: held_toxicity`` (issue 14 item 4) is not a
finished course: while no later course of the same drug has started, the blood counts since the
hold are read against the drug's hold/resume limits (``monitoring/toxicity.yaml``, else the
label's): still below the restart level → keep holding and recheck (a ``blood-count`` item today);
above it → restart, with the restart dose as the sources word it (``toxicity.restart_dose``:
several differing wordings are all shown under ``sources-differ``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from cmvcds.domain.case import Case, Observation
from cmvcds.domain.results import Alert, PathwayResult, ScheduleItem
from cmvcds.domain.settings import SiteSettings
from cmvcds.domain.vocabulary import AlertCode, ScheduleEvent, Severity
from cmvcds.engine.monitoring.common import CODE_ALERT, plain
from cmvcds.engine.monitoring.courses import Course
from cmvcds.engine.monitoring.toxicity import Limit, limits_for, restart_dose
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.core import ObservationCatalogue
from cmvcds.knowledge.schemas.drugs import DrugLabel

HELD = "held_toxicity"


def held_on(course: Course, courses: Sequence[Course], on: date) -> bool:
    """``course`` was held for toxicity and has not been resumed (no later course of its drug) by ``on``."""
    stop = course.stop
    if course.entries[-1].stop_reason != HELD or stop is None or stop >= on:
        return False
    return not any(c.drug == course.drug and stop < c.start <= on for c in courses)


def held_courses(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    courses: Sequence[Course],
    on: date,
) -> None:
    """Hold → recheck → resume for every course held for toxicity on ``on``."""
    for course in courses:
        if held_on(course, courses, on):
            _follow(result, case, knowledge, settings, course, on)


@dataclass(frozen=True)
class StillHeld:
    """A course held for toxicity that must stay held on a day: what each count waited for says,
    what restarts it and when to count again (the earliest recheck)."""

    since: date
    waiting: tuple[str, ...]
    conditions: tuple[str, ...]
    recheck: date

    def held_text(self) -> str:
        """The regimen's ``held`` sentence (ADR 0029, 0031)."""
        return (
            f"held since {self.since} for toxicity: keep holding until {self._until()} "
            f"({'; '.join(self.waiting)}); recheck on {self.recheck}; this is the dose when restarted"
        )

    def reason(self) -> str:
        """The decision's words for the hold (no full stop)."""
        return f"restart only when {self._until()}; recheck on {self.recheck}"

    def _until(self) -> str:
        return " and ".join(self.conditions) or "the blood count recovers"


def still_held(
    case: Case, knowledge: Knowledge, settings: SiteSettings, course: Course, on: date
) -> StillHeld | None:
    """Whether a course held for toxicity must stay held on ``on``: a blood count since the hold
    has not risen above its restart level (or none has been taken), or the drug has no
    blood-count limits (a renal recheck comes first). The pathways that give the course's dose
    show it as the dose when restarted while this holds (outside probe, session 4, D3), with the
    restart condition and the recheck date (probe9 #6)."""
    assert course.stop is not None
    if not _counted(case, knowledge, settings, course):
        return StillHeld(
            course.stop,
            ("the drug has no blood-count limit",),
            ("creatinine and urine protein are rechecked (the label's renal rules)",),
            on,
        )
    _, waiting, ready = _read_counts(PathwayResult(), case, knowledge, settings, course, on)
    if ready and not waiting:
        return None
    return StillHeld(
        course.stop,
        tuple(w.text for w in waiting) or ("no blood count since the hold",),
        tuple(w.limit.restart_condition(w.unit) for w in waiting),
        min((w.recheck for w in waiting), default=on),
    )


@dataclass(frozen=True)
class _Waiting:
    """A count not yet shown above its restart level since the hold: its limit, what was (not)
    measured, its unit (the count's, else the pack's canonical unit) and when to count again."""

    limit: Limit
    text: str
    unit: str
    recheck: date


def _follow(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    course: Course,
    on: date,
) -> None:
    assert course.stop is not None
    since = course.stop
    if not _counted(case, knowledge, settings, course):
        _renal_recheck(result, knowledge, course, since, on)
        return
    limits, waiting, ready = _read_counts(result, case, knowledge, settings, course, on)
    drug = course.drug
    if waiting or not ready:
        detail = "; ".join(w.text for w in waiting) or "no blood count since the hold"
        cited = tuple(dict.fromkeys(c for limit in limits for c in limit.citations))
        # the code of the count still waited for (the first), not of the drug's first limit
        first = waiting[0].limit if waiting else (limits[0] if limits else None)
        recheck = min((w.recheck for w in waiting), default=on)
        result.alerts.append(
            Alert(
                first.alert if first is not None else CODE_ALERT["anc"],
                Severity.WARNING,
                f"{drug}: held since {since} for toxicity, not completed: {detail}. Keep holding and recheck "
                f"the blood count on {recheck}; restart when it recovers.",
                cited,
            )
        )
        result.schedule.append(
            ScheduleItem(
                ScheduleEvent.BLOOD_COUNT,
                recheck,
                cited,
                reason=f"{drug} held for toxicity since {since}: recheck before restarting",
            )
        )
        return
    for limit, latest in ready:
        name = limit.name
        level = limit.resume_above if limit.resume_above is not None else limit.hold_below
        restart, cited = restart_dose(result, limit, drug)
        result.alerts.append(
            Alert(
                limit.alert,
                Severity.INFO,
                f"{drug}: held since {since} for toxicity; {name} {plain(latest.value or 0)} {latest.unit} on "
                f"{latest.date} is above {plain(level)}: {restart}",
                tuple(dict.fromkeys((*limit.citations, *cited))),
            )
        )


def _counted(case: Case, knowledge: Knowledge, settings: SiteSettings, course: Course) -> bool:
    """Whether the drug has blood-count hold/resume limits (else a renal recheck comes first)."""
    return bool(
        limits_for(
            PathwayResult(), knowledge, settings, case.context.value, course.drug, set(CODE_ALERT)
        )
    )


def _read_counts(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    course: Course,
    on: date,
) -> tuple[list[Limit], list[_Waiting], list[tuple[Limit, Observation]]]:
    """The drug's limits, the counts not yet shown above their restart level (each with its
    limit, as a sentence, and its recheck date) and those above it. Every limit of the drug
    needs a count since the hold (label §5.1: each count below its limit is a reason not to
    give): a count last measured before the hold (or never) keeps the course held, is named and
    is due today."""
    assert course.stop is not None
    since = course.stop
    limits = limits_for(
        result, knowledge, settings, case.context.value, course.drug, set(CODE_ALERT)
    )
    catalogue = knowledge.table("observations", ObservationCatalogue).codes
    waiting: list[_Waiting] = []
    ready: list[tuple[Limit, Observation]] = []
    counts = {
        limit.code: sorted(
            (
                o
                for o in case.results(limit.code)
                if o.date <= on and o.value is not None and o.specimen != "fetal_blood"
            ),
            key=lambda o: (o.date, o.value),
        )
        for limit in limits
    }
    causes = _causes(limits, counts, since)
    for limit in limits:
        found = counts[limit.code]
        level = limit.resume_above if limit.resume_above is not None else limit.hold_below
        name = limit.name
        spec = catalogue.get(limit.code)
        unit = (spec.canonical_unit if spec is not None else None) or ""
        if causes and limit.code not in causes:
            # probe11 W1: the restart follows the hold's cause (Kimberlin 2015: restart when the
            # ANC recovers); a count that did not cause the hold blocks the restart only when it
            # has fallen below its own hold level since, and is never named as a toxicity unmeasured
            since_hold = [o for o in found if o.date > since]
            latest_value = since_hold[-1].value if since_hold else None
            if latest_value is not None and latest_value < limit.hold_below:
                latest = since_hold[-1]
                waiting.append(
                    _Waiting(
                        limit,
                        f"{name} {plain(latest_value)} {latest.unit} on {latest.date} (since the hold) "
                        f"is below {plain(limit.hold_below)}",
                        latest.unit or unit,
                        limit.recheck(latest.date, on),
                    )
                )
            continue
        if not found:
            waiting.append(
                _Waiting(limit, f"no {name} measured (restart above {plain(level)})", unit, on)
            )
            continue
        latest = found[-1]
        assert latest.value is not None
        above = latest.value > level if limit.resume_above is not None else latest.value >= level
        if latest.date > since and above:
            ready.append((limit, latest))
        elif latest.date > since:
            waiting.append(
                _Waiting(
                    limit,
                    f"{name} {plain(latest.value)} {latest.unit} on {latest.date} (since the hold) "
                    f"has not risen above {plain(level)}",
                    latest.unit or unit,
                    limit.recheck(latest.date, on),
                )
            )
        else:
            waiting.append(
                _Waiting(
                    limit,
                    f"no {name} since the hold (last {plain(latest.value)} {latest.unit} on "
                    f"{latest.date}; restart above {plain(level)})",
                    latest.unit or unit,
                    on,
                )
            )
    return limits, waiting, ready


def _causes(limits: Sequence[Limit], counts: dict[str, list[Observation]], since: date) -> set[str]:
    """The counts that caused the hold: each limit whose latest count on or before the hold date
    was below its hold level (empty when no count explains the hold: then every limit must be
    shown to have recovered, as before)."""
    causes = set()
    for limit in limits:
        before = [o for o in counts[limit.code] if o.date <= since]
        if before and before[-1].value is not None and before[-1].value < limit.hold_below:
            causes.add(limit.code)
    return causes


def unmeasured_since_hold(
    case: Case, knowledge: Knowledge, settings: SiteSettings, course: Course, on: date
) -> tuple[str, ...]:
    """The names of the drug's blood counts not measured since the hold (the plain request
    before a restart, probe11 W1)."""
    assert course.stop is not None
    limits = limits_for(
        PathwayResult(), knowledge, settings, case.context.value, course.drug, set(CODE_ALERT)
    )
    return tuple(
        limit.name
        for limit in limits
        if not any(
            course.stop < o.date <= on and o.value is not None for o in case.results(limit.code)
        )
    )


def _renal_recheck(
    result: PathwayResult, knowledge: Knowledge, course: Course, since: date, on: date
) -> None:
    """A drug without blood-count limits (cidofovir, foscarnet: nephrotoxic) held for toxicity:
    recheck creatinine and urine protein before restarting, by the label's on-therapy rules."""
    label = knowledge.tables.get(f"drug_{course.drug}")
    rules = label.on_therapy_renal if isinstance(label, DrugLabel) else ()
    cited = tuple(dict.fromkeys(c for rule in rules for c in rule.citations))
    result.alerts.append(
        Alert(
            AlertCode.DOSE_RENAL_ADJUSTMENT,
            Severity.WARNING,
            f"{course.drug}: held since {since} for toxicity, not completed: recheck creatinine and urine "
            "protein before restarting; the restart dose follows the label's renal rules.",
            cited,
        )
    )
    for event in (ScheduleEvent.RENAL_FUNCTION, ScheduleEvent.URINE_PROTEIN):
        result.schedule.append(
            ScheduleItem(
                event,
                on,
                cited,
                reason=f"{course.drug} held for toxicity since {since}: recheck before restarting",
            )
        )
