"""Pre-emptive therapy: surveillance, the site's threshold, start and stop (T5, T6, T14, T15, T10)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cmvcds.domain.case import Case
from cmvcds.domain.fast_init import fast_init
from cmvcds.domain.results import schedule_items
from cmvcds.domain.vocabulary import AlertCode, Indication, Outcome, ScheduleEvent, Severity
from cmvcds.engine.monitoring.courses import recurring_days
from cmvcds.engine.monitoring.schedule import planned_days
from cmvcds.engine.transplant.common import (
    Plan,
    Tables,
    add_alert,
    current_course,
    give,
    plasma_loads,
)
from cmvcds.engine.transplant.treatment import clearance, stop_rule_text

__all__ = ["Episode", "episode", "surveillance"]


@fast_init
@dataclass(frozen=True)
class Episode:
    """The pre-emptive decision's outcome; ``active`` when therapy runs or starts (prophylaxis stops)."""

    outcome: Outcome
    active: bool


def surveillance(
    plan: Plan, start: date, stop: date, on: date, interval_days: int, reason: str
) -> None:
    """Weekly viral-load checks from ``start`` (or ``on``) through ``stop``."""
    schedule = plan.result.schedule
    citations = tuple(plan.citations)
    event = ScheduleEvent.VIRAL_LOAD
    taken = planned_days(schedule, event, citations, reason)
    schedule += schedule_items(
        event,
        [day for day in recurring_days(start, interval_days, on, stop) if day not in taken],
        citations,
        reason,
    )


def episode(
    case: Case,
    on: date,
    t: Tables,
    plan: Plan,
    *,
    threshold_setting: str,
    population: str,
    choose: Callable[[], tuple[str, str | None] | None],
    on_protocol: bool = True,
) -> Episode | None:
    """The pre-emptive decision when DNAemia is present: continue, stop or start therapy.

    None when there is no pre-emptive course and no blood viral load at or above the threshold
    (the caller continues surveillance). Outside a pre-emptive protocol (``on_protocol`` False:
    after or during prophylaxis) an unset threshold is ``specialist_review`` (T8), not
    ``insufficient_data`` (T6); the setting is still named in ``missing``.
    """
    result = plan.result
    if case.presentation is not None and case.presentation.disease in (
        "cmv_syndrome",
        "tissue_invasive",
    ):
        plan.because(
            "CMV disease: treated under antiviral-treatment, not as pre-emptive therapy",
            (t.treatment.treatment_drugs, "treatment of CMV disease"),
        )
        return Episode(Outcome.NOT_INDICATED, True)
    course = current_course(case, on, t.treatment.treatment_drugs.values)
    stop_text = stop_rule_text(t, plan, disease=False)
    if course is not None and course.indication == "preemptive":
        plan.rule("T10")
        days = (on - course.start).days
        minimum = int(t.treatment.min_treatment_days.value)
        plan.cite(t.treatment.min_treatment_days, "minimum pre-emptive therapy duration")
        if days >= minimum:
            cleared = clearance(case, on, course.start, plan, t, threshold_setting)
            if cleared.met is None:
                plan.because(f"day {days} of pre-emptive therapy, but {cleared.reason}")
                return Episode(Outcome.INSUFFICIENT_DATA, False)
            if cleared.met:
                plan.because(
                    f"stop pre-emptive {course.drug}: day {days} (≥ {minimum}) and {cleared.reason}; resume surveillance"
                )
                return Episode(Outcome.NOT_INDICATED, False)
            plan.because(f"continue pre-emptive {course.drug}: {cleared.reason}")
        else:
            plan.because(f"continue pre-emptive {course.drug}: day {days} of at least {minimum}")
        given = give(
            plan,
            case,
            on,
            course.drug,
            Indication.PREEMPTIVE,
            start=course.start,
            stop_rule=stop_text,
            population=population,
            route=course.route,
        )
        return Episode(given, True)
    loads = plasma_loads(case, on)
    if not loads:
        return None
    latest = loads[-1]
    if latest.value is None:
        if latest.result == "detected":
            plan.because(
                f"CMV DNA detected on {latest.date} without a quantity: repeat a quantitative test"
            )
        return None
    plan.rule("T6")
    threshold = plan.setting(threshold_setting)
    if threshold is None:
        shown = f"viral load {latest.value} {latest.unit} on {latest.date}"
        if not on_protocol:
            plan.rule("T8")
            plan.because(
                f"asymptomatic DNAemia ({shown}) outside a pre-emptive protocol and the site's threshold "
                f"{threshold_setting} is not set: specialist review"
            )
            return Episode(Outcome.SPECIALIST_REVIEW, False)
        plan.because(f"{shown}: the site's threshold {threshold_setting} is not set")
        return Episode(Outcome.INSUFFICIENT_DATA, False)
    plan.cite_setting(threshold_setting)
    if latest.unit != "IU/mL":
        add_alert(
            result,
            AlertCode.ASSAY_MISMATCH,
            Severity.WARNING,
            f"The viral load of {latest.date} is in {latest.unit}; the site's pre-emptive threshold is in IU/mL.",
            tuple(plan.citations),
        )
        plan.because(f"viral load in {latest.unit} cannot be compared with a threshold in IU/mL")
        return Episode(Outcome.INSUFFICIENT_DATA, False)
    if latest.value < Decimal(threshold):
        plan.because(
            f"viral load {latest.value} IU/mL on {latest.date} is below the site's threshold ({threshold} IU/mL)"
        )
        return None
    choice = choose()
    if choice is None:
        plan.because(
            f"viral load {latest.value} IU/mL on {latest.date} is at or above the site's threshold, "
            "but the drug cannot be chosen (see missing)"
        )
        return Episode(Outcome.INSUFFICIENT_DATA, True)
    drug, route = choice
    plan.because(
        f"viral load {latest.value} IU/mL on {latest.date} is at or above the site's threshold ({threshold} IU/mL): "
        f"start pre-emptive {drug}; {stop_text}"
    )
    given = give(
        plan,
        case,
        on,
        drug,
        Indication.PREEMPTIVE,
        start=on,
        stop_rule=stop_text,
        population=population,
        route=route,
    )
    return Episode(given, True)
