"""Treatment of CMV disease: route by severity, IV → oral switch, end of treatment (T8–T10, T16).

Shared by the transplant, HIV (GI disease) and immunocompromised pathways. The regimen is always
the dosing engine's; the stop rule is built from the ``cmv_treatment`` table and the site's
clearance settings.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter

from cmvcds.domain.case import Case, Observation
from cmvcds.domain.results import Alert
from cmvcds.domain.vocabulary import AlertCode, Indication, Outcome, Severity
from cmvcds.engine.dosing import dose_patient_from_case
from cmvcds.engine.kinetics import viral_load_series
from cmvcds.engine.monitoring.dose import course_exclusion, unknown_indication_overdose
from cmvcds.engine.transplant.common import (
    BLOOD_SPECIMENS,
    Plan,
    Tables,
    Therapy,
    add_alert,
    current_course,
    give,
    is_below_lloq,
    plasma_loads,
)
from cmvcds.knowledge import Knowledge

__all__ = [
    "Clearance",
    "clearance",
    "disease_route",
    "reduce_immunosuppression_alert",
    "stop_rule_text",
    "treat_disease",
    "viral_load_declining",
]

_CRITERION_WORDS = {
    "below_lloq": "below the assay's lower limit of quantification",
    "below_threshold": "below the site's pre-emptive threshold",
}


def disease_route(case: Case, t: Tables, plan: Plan) -> str:
    """``iv`` or ``oral`` for CMV disease (T8), with the reason added to ``plan``."""
    presentation = case.presentation
    treatment = t.treatment
    severity = presentation.severity if presentation else None
    organs = presentation.organs if presentation else ()
    if severity in treatment.iv_severities.values:
        plan.because(
            f"{severity.replace('_', '-')} disease: IV ganciclovir first",
            (treatment.iv_severities, "IV therapy for severe disease"),
        )
        return "iv"
    if case.patient.icu:
        plan.because(
            "critically ill (ICU): IV ganciclovir first",
            (treatment.iv_severities, "IV therapy for severe disease"),
        )
        return "iv"
    serious = [o for o in organs if o in treatment.iv_organs.values]
    if serious:
        plan.because(
            f"{', '.join(serious)}: IV ganciclovir first",
            (treatment.iv_organs, "IV therapy for CNS or ocular disease"),
        )
        return "iv"
    if case.patient.can_take_oral is False:
        plan.because(
            "cannot take oral drugs: IV ganciclovir",
            (treatment.absorption_organs, "IV therapy when oral absorption is doubtful"),
        )
        return "iv"
    if (
        any(o in treatment.absorption_organs.values for o in organs)
        and case.patient.can_take_oral is not True
    ):
        plan.because(
            "gastrointestinal disease with doubtful absorption: IV ganciclovir",
            (treatment.absorption_organs, "IV therapy when oral absorption is doubtful"),
        )
        return "iv"
    very_high = plan.optional_setting("very_high_vl_iu_ml")
    latest = _latest_quantified(case, case.assessed_on)
    if (
        very_high is not None
        and latest is not None
        and latest.unit == "IU/mL"
        and latest.value is not None
        and latest.value >= Decimal(very_high)
    ):
        plan.because(
            f"viral load {latest.value} IU/mL is at or above the site's very high level ({very_high})"
        )
        return "iv"
    plan.because(
        "mild to moderate disease in a patient who can take and absorb oral drugs: oral valganciclovir",
        (treatment.first_line_oral, "oral valganciclovir for non-severe disease"),
    )
    return "oral"


def _latest_quantified(case: Case, on: date) -> Observation | None:
    loads = [o for o in plasma_loads(case, on) if o.value is not None]
    return loads[-1] if loads else None


def viral_load_declining(case: Case, on: date, start: date) -> bool | None:
    """Is the latest blood viral load lower than the last one on or before ``start`` (same series)?"""
    for series in viral_load_series(case.observations, until=on):
        if series.specimen not in BLOOD_SPECIMENS:
            continue
        before = [p for p in series.points if p.day <= start]
        after = [p for p in series.points if p.day > start]
        if before and after:
            return after[-1].value < before[-1].value
    latest = plasma_loads(case, on)
    if latest and latest[-1].date > start and is_below_lloq(latest[-1]):
        return True
    return None


@dataclass(frozen=True)
class Clearance:
    met: bool | None
    reason: str


def clearance(
    case: Case, on: date, start: date, plan: Plan, t: Tables, threshold_setting: str
) -> Clearance:
    """Do the last N weekly blood viral loads since ``start`` meet the site's clearance criterion?"""
    needed = plan.setting("clearance_consecutive_weekly_tests")
    criterion = plan.setting("clearance_criterion")
    if needed is None or criterion is None:
        return Clearance(None, "the site's clearance settings are not set")
    plan.cite_setting("clearance_consecutive_weekly_tests")
    threshold = plan.setting(threshold_setting) if criterion == "below_threshold" else None
    if criterion == "below_threshold" and threshold is None:
        return Clearance(None, f"clearance is judged against {threshold_setting}, which is not set")
    tests = [o for o in plasma_loads(case, on) if o.date > start]
    last = tests[-int(needed) :]
    words = _CRITERION_WORDS[str(criterion)]
    if len(last) < int(needed):
        return Clearance(
            False,
            f"{needed} consecutive weekly viral load(s) {words} are needed; {len(tests)} since the start",
        )
    spacing = int(t.treatment.clearance_min_spacing_days.value)
    plan.cite(t.treatment.clearance_min_spacing_days, "spacing of weekly clearance tests")
    for earlier, later in itertools.pairwise(last):
        if (later.date - earlier.date).days < spacing:
            return Clearance(
                False,
                f"clearance tests on {earlier.date} and {later.date} are less than {spacing} days apart",
            )
    for test in last:
        if not _clear(test, str(criterion), threshold):
            shown = f"{test.value} {test.unit}" if test.value is not None else str(test.result)
            return Clearance(False, f"the viral load of {test.date} ({shown}) is not {words}")
    return Clearance(True, f"the last {needed} weekly viral load(s) are {words}")


def _clear(test: Observation, criterion: str, threshold: object) -> bool:
    if is_below_lloq(test):
        return True
    if criterion == "below_threshold" and test.value is not None and test.unit == "IU/mL":
        return test.value < Decimal(str(threshold))
    return False


def stop_rule_text(t: Tables, plan: Plan, disease: bool) -> str:
    """The end-of-treatment rule as the output states it (T10), from data and settings."""
    days = t.treatment.min_treatment_days.value
    needed = plan.settings.get("clearance_consecutive_weekly_tests")
    criterion = plan.settings.get("clearance_criterion")
    tests = (
        f"{needed} consecutive weekly viral load(s) {_CRITERION_WORDS[str(criterion)]}"
        if needed is not None and criterion is not None
        else "clearance on weekly viral loads (site setting not chosen)"
    )
    resolution = "clinical resolution, " if disease else ""
    return f"stop after at least {days} days with {resolution}{tests}"


def treat_disease(
    case: Case,
    on: date,
    t: Tables,
    plan: Plan,
    *,
    population: str,
    threshold_setting: str,
    marrow_drug: bool = False,
) -> Outcome:
    """Antiviral treatment of CMV disease: start, continue, switch to oral, or stop (T8–T10, T16).

    Returns the outcome; the caller adds context alerts and closes ``plan``.
    """
    treatment = t.treatment
    course = _current_treatment(case, on, t)
    stop_text = stop_rule_text(t, plan, disease=True)
    if course is None:
        plan.rule("T8")
        route = "iv" if marrow_drug else disease_route(case, t, plan)
        drug = (
            "foscarnet" if marrow_drug else ("ganciclovir" if route == "iv" else "valganciclovir")
        )
        if drug == "foscarnet":
            plan.cite(treatment.marrow_sparing, "foscarnet with marrow suppression")
        route_given = "iv" if route == "iv" else None
        started = give(
            plan,
            case,
            on,
            drug,
            Indication.INDUCTION,
            start=on,
            stop_rule=stop_text,
            population=population,
            route=route_given,
        )
        if started is not Outcome.RECOMMENDED:
            return started
        plan.because(
            f"start {drug} induction on {on}; {stop_text}",
            (treatment.min_treatment_days, "minimum treatment duration"),
        )
        return Outcome.RECOMMENDED
    plan.rule("T10")
    days = (on - course.start).days
    minimum = int(treatment.min_treatment_days.value)
    plan.cite(treatment.min_treatment_days, "minimum treatment duration")
    resolved = case.presentation is not None and case.presentation.course == "resolved"
    excluded = _excluded_course(case, on, plan.knowledge, course)
    if excluded is not None:
        plan.because(
            f"the {course.drug} course running since {course.start}: the label gives no dose of "
            f"it for this patient; do not continue it (see the critical alert): {excluded}",
            (t.treatment.min_treatment_days, "treatment at a verified dose"),
        )
        return Outcome.SPECIALIST_REVIEW
    overdose = _unrecorded_overdose(case, on, plan.knowledge, course)
    if overdose is not None:
        plan.because(
            f"the {course.drug} course running since {course.start} has no recorded indication "
            "and its dose is above every labelled dose for today's renal function: do not "
            "continue it at this dose (see the dose alert); record its indication to decide "
            "whether treatment continues",
            (t.treatment.min_treatment_days, "treatment at a verified dose"),
        )
        return Outcome.INSUFFICIENT_DATA
    if days >= minimum and resolved:
        cleared = clearance(case, on, course.start, plan, t, threshold_setting)
        if cleared.met is None:
            plan.because(f"day {days} of treatment with clinical resolution, but {cleared.reason}")
            return Outcome.INSUFFICIENT_DATA
        if cleared.met:
            plan.because(
                f"end of treatment: day {days} (≥ {minimum}), clinical resolution, {cleared.reason}; stop {course.drug}"
            )
            return Outcome.NOT_INDICATED
        plan.because(f"continue: {cleared.reason}")
    elif days < minimum:
        plan.because(f"continue: day {days} of at least {minimum}")
    else:
        plan.because(f"continue: day {days}, no clinical resolution yet")
    return _continue(case, on, t, plan, course, population, stop_text)


def _unrecorded_overdose(
    case: Case, on: date, knowledge: Knowledge, course: Therapy
) -> Alert | None:
    """The dose alert of the latest running ``course.drug`` entry without an indication whose dose
    is above every labelled dose today (review10: never "continue" it), else None."""
    if course.indication is not None:
        return None
    entries = [
        e
        for e in case.therapy
        if e.drug == course.drug and e.start <= on and (e.stop is None or e.stop >= on)
    ]
    latest = max(entries, key=attrgetter("start"), default=None)
    if latest is None or latest.indication is not None:
        return None
    return unknown_indication_overdose(latest, dose_patient_from_case(case, on), knowledge)


def _excluded_course(case: Case, on: date, knowledge: Knowledge, course: Therapy) -> str | None:
    """The label's reason when the latest running ``course.drug`` entry is of a drug the label
    excludes for this patient today (``course_exclusion``: valganciclovir on hemodialysis, "use
    IV ganciclovir …"; review11 S1): such a course is never "continued". None otherwise."""
    entries = [
        e
        for e in case.therapy
        if e.drug == course.drug and e.start <= on and (e.stop is None or e.stop >= on)
    ]
    latest = max(entries, key=attrgetter("start"), default=None)
    if latest is None:
        return None
    found = course_exclusion(case, latest, dose_patient_from_case(case, on), knowledge)
    return None if found is None else found[1]


def _current_treatment(case: Case, on: date, t: Tables) -> Therapy | None:
    course = current_course(case, on, t.treatment.treatment_drugs.values)
    if course is None or course.indication in ("prophylaxis", "preemptive"):
        return None
    return course


def _continue(
    case: Case, on: date, t: Tables, plan: Plan, course: Therapy, population: str, stop_text: str
) -> Outcome:
    """Continue the current course, switching IV ganciclovir to oral valganciclovir when T9 allows."""
    drug, route = course.drug, course.route
    if drug == "ganciclovir" and route in ("iv", None):
        plan.rule("T9")
        unmet = _switch_unmet(case, on, course)
        plan.cite(t.treatment.first_line_oral, "IV to oral switch criteria")
        if not unmet:
            plan.because(
                "switch to oral valganciclovir: clinical improvement, oral intake and absorption, falling viral load"
            )
            drug, route = "valganciclovir", "oral"
        else:
            plan.because(f"stay on IV ganciclovir: {'; '.join(unmet)}")
    start = on if drug != course.drug else course.start
    return give(
        plan,
        case,
        on,
        drug,
        Indication.INDUCTION,
        start=start,
        stop_rule=stop_text,
        population=population,
        route="iv" if route == "iv" else None,
    )


def _switch_unmet(case: Case, on: date, course: Therapy) -> list[str]:
    unmet = []
    if case.presentation is None or case.presentation.course not in ("improving", "resolved"):
        unmet.append("no documented clinical improvement")
    if case.patient.can_take_oral is not True:
        unmet.append("ability to take and absorb oral drugs not documented")
    declining = viral_load_declining(case, on, course.start)
    if declining is None:
        unmet.append("no viral load after the start to compare with the baseline")
    elif not declining:
        unmet.append("viral load not falling from the baseline")
    return unmet


def reduce_immunosuppression_alert(plan: Plan, t: Tables, case: Case) -> None:
    """``reduce-immunosuppression``: warning for tissue-invasive or severe disease, info otherwise."""
    p = case.presentation
    facts = t.treatment.reduce_immunosuppression_diseases
    citations = plan.result.cite(facts, "reduce immunosuppression in CMV disease")
    severe = p is not None and (
        p.disease in facts.values or p.severity in t.treatment.iv_severities.values
    )
    if severe:
        add_alert(
            plan.result,
            AlertCode.REDUCE_IMMUNOSUPPRESSION,
            Severity.WARNING,
            "Reduce immunosuppression where possible (tissue-invasive or severe CMV disease).",
            citations,
        )
    else:
        add_alert(
            plan.result,
            AlertCode.REDUCE_IMMUNOSUPPRESSION,
            Severity.INFO,
            "Consider reducing immunosuppression (CMV syndrome).",
            citations,
        )
