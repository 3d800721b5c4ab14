"""Is the infection refractory? Chemaly 2019 applied to each blood viral-load series."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cmvcds.domain.case import Case, TherapyCourse
from cmvcds.domain.memo import same_call
from cmvcds.domain.vocabulary import (
    AlertCode,
)
from cmvcds.engine.kinetics import (
    Point,
    viral_load_series,
)
from cmvcds.engine.monitoring.common import BLOOD
from cmvcds.engine.monitoring.courses import (
    Course,
    Episode,
    entry_end,
    episode_of,
    merged_episodes,
    therapy_courses,
)
from cmvcds.engine.monitoring.dose import drugs_below_target, treatment_dose
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.monitoring import (
    KineticsRules,
)


@dataclass(frozen=True)
class RefractoryCall:
    """Chemaly 2019 applied to one blood series of a transplant patient."""

    series: str
    code: AlertCode | None
    start: date
    baseline: Point | None
    latest: Point
    change_log10: Decimal | None
    days_on_therapy: int
    evaluable: bool
    reason: str
    underdosed: bool = False


def _treatment_episodes(
    courses: Sequence[Course],
    drugs: Iterable[str],
    on: date,
    prophylaxis_dose: Callable[[TherapyCourse], bool] | None = None,
) -> tuple[Episode, ...]:
    """Episodes of treatment with ``drugs``: entries given as prophylaxis do not count, nor an
    entry without an indication that ``prophylaxis_dose`` reads as a prophylaxis dose (probe9
    #3: it is prophylaxis, not therapy to call refractory); each entry spans its days in force
    (``entry_end``)."""
    wanted = set(drugs)
    return merged_episodes(
        (e.start, entry_end(c, i, on), c.drug)
        for c in courses
        if c.drug in wanted
        for i, e in enumerate(c.entries)
        if e.indication != "prophylaxis"
        and e.start <= on
        and not (e.indication is None and prophylaxis_dose is not None and prophylaxis_dose(e))
    )


@same_call
def below_target(case: Case, knowledge: Knowledge, on: date) -> frozenset[str]:
    """The drugs in ``case.therapy`` whose dose in force on ``on`` is below target
    (``drugs_below_target``), asked of the dosing engine once per case and day: the refractory
    calls, the transplant pathway's T20 and SOT prophylaxis all need it (three to four dose checks
    per course in a transplant case, issue 20)."""
    return frozenset(drugs_below_target(case, knowledge, therapy_courses(case.therapy), on))


@same_call
def refractory_calls(case: Case, knowledge: Knowledge, on: date) -> tuple[RefractoryCall, ...]:
    """The refractory status of each blood viral-load series (transplant patients; empty otherwise).

    Baseline = the last load on or before the start of the current treatment episode (I-T2;
    prophylaxis does not start it); evaluable after ``min_days`` of therapy on a dose that is
    not below target. Computed once per case and day (the monitoring and the transplant pathway
    both ask); the doses are checked only when a series falls in a treatment episode.
    """
    rules = knowledge.table("monitoring_kinetics", KineticsRules).refractory
    if case.context.value not in rules.contexts:
        return ()
    courses = therapy_courses(case.therapy)
    spans = _treatment_episodes(
        courses,
        rules.drugs,
        on,
        lambda entry: treatment_dose(case, on, knowledge, entry) is False,
    )
    calls = []
    for s in viral_load_series(case.observations, until=on):
        if s.specimen not in BLOOD or not s.points:
            continue
        latest = s.points[-1]
        episode = episode_of(latest.day, spans)
        if episode is None:
            continue
        before = [p for p in s.points if p.day <= episode.start]
        baseline = before[-1] if before else None
        days = (latest.day - episode.start).days
        change = None if baseline is None else latest.log10 - baseline.log10
        code: AlertCode | None = None
        underdosed = not below_target(case, knowledge, on).isdisjoint(episode.drugs)
        evaluable = baseline is not None and days >= rules.min_days and not underdosed
        if baseline is None:
            reason = "no viral load on or before the start of therapy to compare with"
        elif days < rules.min_days:
            reason = f"day {days} of therapy: too early to judge (≥ {rules.min_days} days needed)"
        elif underdosed:
            reason = "the dose is below target: not appropriately dosed"
        elif change is not None and change > rules.refractory_above_log10:
            code, reason = AlertCode.REFRACTORY_CMV, "rise above the refractory threshold"
        elif change is not None and change >= 0:
            code, reason = AlertCode.PROBABLE_REFRACTORY_CMV, "the load has not fallen"
        else:
            reason = "the load is falling"
        calls.append(
            RefractoryCall(
                s.key,
                code,
                episode.start,
                baseline,
                latest,
                change,
                days,
                evaluable,
                reason,
                underdosed,
            )
        )
    return tuple(calls)
