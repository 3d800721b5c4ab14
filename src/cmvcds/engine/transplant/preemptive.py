"""Pre-emptive therapy: surveillance, the site's threshold, start and stop (T5, T6, T14, T15, T10)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cmvcds.domain.case import Case, Observation
from cmvcds.domain.fast_init import fast_init
from cmvcds.domain.results import Missing, schedule_items
from cmvcds.domain.vocabulary import AlertCode, Indication, Outcome, ScheduleEvent, Severity
from cmvcds.engine.dosing import recommend_dose
from cmvcds.engine.dosing.patient import dose_patient_from_case
from cmvcds.engine.kinetics import log10
from cmvcds.engine.monitoring.courses import recurring_days
from cmvcds.engine.monitoring.schedule import planned_days
from cmvcds.engine.transplant.common import (
    Plan,
    Tables,
    add_alert,
    current_course,
    give,
    is_below_lloq,
    plasma_loads,
)
from cmvcds.engine.transplant.treatment import clearance, stop_rule_text
from cmvcds.errors import CmvcdsError
from cmvcds.knowledge.schemas.monitoring import KineticsRules

__all__ = ["Episode", "dose_needs", "episode", "surveillance", "unclassified_alert"]


@fast_init
@dataclass(frozen=True)
class Episode:
    """The pre-emptive decision's outcome; ``active`` when therapy runs or starts (prophylaxis stops)."""

    outcome: Outcome
    active: bool
    #: probe11 S3: a quantified DNAemia the tool cannot classify (the site's threshold is not
    #: set): no prevention may be recommended over it
    unclassified: bool = False
    #: fixr23a: CMV DNA "detected" without a quantity (SOT): no prevention is decided over it
    #: until the quantitative result is known
    unquantified: bool = False


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
        if course is None:  # under a running treatment the load is that treatment's matter
            unclassified_alert(plan, loads, threshold_setting, population)
            dose_needs(plan, case, on, t)
        if not on_protocol:
            plan.rule("T8")
            plan.because(
                f"asymptomatic DNAemia ({shown}) outside a pre-emptive protocol and the site's threshold "
                f"{threshold_setting} is not set: specialist review"
            )
            return Episode(Outcome.SPECIALIST_REVIEW, False, unclassified=True)
        plan.because(f"{shown}: the site's threshold {threshold_setting} is not set")
        return Episode(Outcome.INSUFFICIENT_DATA, False, unclassified=True)
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


def unclassified_alert(
    plan: Plan, loads: tuple[Observation, ...], threshold_setting: str, population: str
) -> None:
    """probe11 S3: a quantified DNAemia with no site threshold cannot be classified. review12
    W3: the alert is critical when the load rose by at least the pack's ``rise_log10`` from the
    previous result of the same specimen and unit (a not-detected or below-LLOQ result counting
    as 1 IU/mL, log10 0, as in the kinetics) or is at least its ``level_iu_ml``; a warning
    otherwise (a change within assay variability, a low level). No threshold is invented (the
    reference profile names none: no guideline gives one)."""
    rule = plan.knowledge.table("monitoring_kinetics", KineticsRules).unclassified_dnaemia
    latest = loads[-1]
    assert latest.value is not None
    before = [
        o
        for o in loads[:-1]
        if (o.value is not None or is_below_lloq(o))
        and (o.unit == latest.unit or (o.value is None and o.unit is None))
        and o.specimen == latest.specimen
        and o.date < latest.date
    ]
    previous = before[-1] if before else None
    common = (
        f"the site's pre-emptive threshold {threshold_setting} is not set (no guideline gives "
        "one): the tool cannot tell whether pre-emptive therapy must start. Decide now against "
        "the centre's own threshold"
        + (
            "; letermovir prophylaxis is not a treatment of DNAemia."
            if population == "hsct"
            else "."
        )
    )
    rise: Decimal | None = None
    if previous is not None:
        earlier = previous.value if previous.value is not None else Decimal(0)
        rise = log10(latest.value) - log10(earlier)
    high = latest.unit == "IU/mL" and latest.value >= rule.level_iu_ml
    if (rise is not None and rise >= rule.rise_log10) or high:
        plan.cite(rule, "unclassified DNAemia: rise and level")
        assert rise is None or previous is not None
        if rise is not None and rise >= rule.rise_log10 and previous is not None:
            shown = (
                f"{previous.value} {previous.unit}"
                if previous.value is not None
                else (previous.result or "not detected").replace("_", " ")
            )
            message = (
                f"Rising CMV DNAemia ({shown} on {previous.date}, {latest.value} {latest.unit} on "
                f"{latest.date}: +{rise:.2f} log10, at least {rule.rise_log10}) and {common}"
            )
        else:
            message = (
                f"CMV DNAemia {latest.value} {latest.unit} on {latest.date}, at or above "
                f"{rule.level_iu_ml} IU/mL, and {common}"
            )
        add_alert(
            plan.result,
            AlertCode.DNAEMIA_UNCLASSIFIED,
            Severity.CRITICAL,
            message,
            tuple(plan.citations),
        )
        return
    add_alert(
        plan.result,
        AlertCode.DNAEMIA_UNCLASSIFIED,
        Severity.WARNING,
        f"CMV DNAemia {latest.value} {latest.unit} on {latest.date} and {common}",
        tuple(plan.citations),
    )


def dose_needs(plan: Plan, case: Case, on: date, t: Tables) -> None:
    """probe11 S3: what a pre-emptive dose of each candidate drug (first line oral and IV, and
    the marrow-sparing alternative) would need that the case lacks (weight, creatinine …), named
    in ``missing`` beside the threshold, so that everything is at hand once it is set."""
    drugs = dict.fromkeys(
        (
            *t.treatment.first_line_oral.values,
            *t.treatment.first_line_iv.values,
            *t.treatment.marrow_sparing.values,
        )
    )
    patient = dose_patient_from_case(case, on)
    result = plan.result
    for drug in drugs:
        try:
            dose = recommend_dose(patient, drug, Indication.PREEMPTIVE, plan.knowledge)
        except CmvcdsError:  # a drug the dosing tables do not hold for this use
            continue
        if dose.outcome is not Outcome.INSUFFICIENT_DATA:
            continue
        for missing in dose.missing:
            if missing.item.startswith("setting:") or any(
                m.item == missing.item for m in result.missing
            ):
                continue
            result.missing.append(
                Missing(
                    missing.item,
                    f"a pre-emptive {drug} dose, once the threshold is set, needs it: {missing.why}",
                )
            )
