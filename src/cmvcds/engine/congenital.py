"""Congenital CMV: does this infant qualify for 6 months of valganciclovir, and at what dose today?

Rules N1–N4 of ../shared/clinical/pregnancy-congenital.md §4, with every criterion read from
``data/congenital/criteria.yaml``:

1. **Diagnosis.** Congenital infection is confirmed by CMV DNA in urine or saliva within the first
   21 days of life; a positive newborn dried blood spot confirms it when it is found later.
2. **Category.** Moderate/severe disease (any CNS involvement, or several systemic findings) is
   treated; mild disease, isolated hearing loss and asymptomatic infection are not (policy row,
   site-configurable because the 2024 ECCI consensus may differ).
3. **Trial population.** Start by day 30 of life, gestational age ≥ 32 weeks, weight ≥ 1.8 kg
   (Kimberlin 2015). Outside it: ``specialist_review``, still showing the dose a clinician
   would use if they proceed.
4. **Plan.** Valganciclovir (IV ganciclovir when oral is not possible) for 6 calendar months, the
   dose from the dosing engine on the latest weight; the monitoring calendar when the course has
   not started yet (once it is in ``therapy`` the monitoring pathway plans it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import get_args

from cmvcds.domain.case import Case
from cmvcds.domain.gestational_age import GestationalAge
from cmvcds.domain.results import Alert, Decision, Missing, PathwayResult, schedule_items
from cmvcds.domain.sentences import clause, sentence
from cmvcds.domain.settings import SiteSettings, use_setting
from cmvcds.domain.vocabulary import (
    AlertCode,
    DecisionId,
    Indication,
    Outcome,
    ScheduleEvent,
    Severity,
)
from cmvcds.engine.congenital_follow_up import long_course_review, read_results
from cmvcds.engine.congenital_genotype import read_genotype
from cmvcds.engine.congenital_renal import infant_renal
from cmvcds.engine.dosing import dose_patient_from_case, recommend_dose
from cmvcds.engine.monitoring import (
    Course,
    add_months,
    months_on_or_after,
    plan_schedule,
    therapy_courses,
)
from cmvcds.engine.monitoring.held import held_on, still_held, unmeasured_since_hold
from cmvcds.engine.monitoring.toxicity import count_holds, held_text, hold_reason
from cmvcds.engine.weight_age import weighed_regimen
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.congenital import (
    Category,
    CongenitalCriteria,
    FollowUpCalendar,
    FollowUpVisit,
)

__all__ = ["Diagnosis", "classify", "evaluate", "treated_category"]

_DECISION = DecisionId.VALGANCICLOVIR_CONGENITAL
_POSITIVE = ("detected", "detected_below_lloq")
_SNHL = ("unilateral_snhl", "bilateral_snhl")


@dataclass(frozen=True)
class Diagnosis:
    """How congenital infection was shown: specimen, date, age in days, and the verdict."""

    specimen: str
    day: date
    age_days: int
    status: str  # confirmed | late | unconfirmed


def evaluate(case: Case, knowledge: Knowledge, on: date, settings: SiteSettings) -> PathwayResult:
    """The ``valganciclovir-congenital`` decision, its regimen and (before the start) its calendar."""
    result = PathwayResult()
    criteria = knowledge.table("congenital_criteria", CongenitalCriteria)
    birth = case.patient.birth_date
    if case.congenital is None or birth is None:
        missing = [
            m
            for m, absent in (
                ("patient.birth_date", birth is None),
                ("congenital", case.congenital is None),
            )
            if absent
        ]
        for item in missing:
            result.missing.append(
                Missing(
                    item, "needed to date the diagnosis and the start of therapy in days of life"
                )
            )
        needs = result.cite(criteria.diagnosis, "confirmation of congenital infection")
        return _decide(result, Outcome.INSUFFICIENT_DATA, f"Missing: {', '.join(missing)}.", needs)

    diagnosis = _diagnosis(case, criteria, birth)
    findings: dict[str, object] = {"age_days": (on - birth).days}
    result.findings["congenital"] = findings
    calendar = knowledge.tables.get("congenital_follow_up")
    if isinstance(calendar, FollowUpCalendar):
        read_results(case, calendar, result)
    diag_cited = result.cite(
        criteria.diagnosis, "confirmation of congenital infection (specimen and 21-day window)"
    )
    if diagnosis is None:
        result.missing.append(
            Missing(
                "congenital.diagnosis",
                "a positive CMV PCR (urine or saliva in the first 21 days of life)",
            )
        )
        return _decide(
            result,
            Outcome.INSUFFICIENT_DATA,
            "No positive CMV PCR to confirm congenital infection.",
            diag_cited,
        )
    findings["diagnosis"] = {
        "specimen": diagnosis.specimen,
        "date": diagnosis.day,
        "age_days": diagnosis.age_days,
        "status": diagnosis.status,
    }
    if diagnosis.status == "unconfirmed":
        window = criteria.diagnosis.max_age_days
        result.missing.append(
            Missing(
                "cmv_dna:dried_blood_spot",
                f"CMV DNA in {diagnosis.specimen} on day {diagnosis.age_days} does not prove congenital infection "
                f"(urine or saliva by day {window} does); test the newborn dried blood spot",
            )
        )
        return _decide(
            result,
            Outcome.INSUFFICIENT_DATA,
            f"Congenital infection not confirmed: {diagnosis.specimen} PCR on day {diagnosis.age_days} of life.",
            diag_cited,
        )

    category, category_cited = classify(case, criteria, result)
    findings["category"] = category
    _follow_up(result, knowledge, category, birth, on)
    policy = criteria.policy(category)
    outcome = Outcome(policy.outcome)
    cited = (
        *diag_cited,
        *category_cited,
        *result.cite(policy, f"policy for {category.replace('_', ' ')} disease"),
    )
    chosen = (
        use_setting(result, settings, knowledge, policy.setting)
        if policy.setting and settings.get(policy.setting)
        else None
    )
    if chosen is not None:
        outcome = Outcome(chosen)
    if outcome != Outcome.RECOMMENDED:
        if policy.setting is not None:
            result.alerts.append(
                Alert(
                    AlertCode.LOW_EVIDENCE,
                    Severity.INFO,
                    f"Policy: {sentence(policy.reason)} A site may choose specialist review instead "
                    f"(setting {policy.setting}).",
                    policy.citations,
                )
            )
        running = [
            c
            for c in therapy_courses(case.therapy)
            if c.drug in (criteria.plan.drug, criteria.plan.iv_alternative_drug) and c.active_on(on)
        ]
        if running and criteria.running_not_indicated is not None:
            # probe11 W2: a course running although not indicated is said, never dosed up
            row = criteria.running_not_indicated
            said = f"On {running[-1].drug} since {running[-1].start}: {row.action}."
            cited = (*cited, *result.cite(row, "a course running although not indicated"))
            result.alerts.append(
                Alert(AlertCode.OUTSIDE_EVIDENCE_BASE, Severity.WARNING, said, row.citations)
            )
            reasons_now = [sentence(policy.reason[0].upper() + policy.reason[1:]), said]
            return _decide(result, outcome, reasons_now, cited)
        return _decide(
            result, outcome, sentence(policy.reason[0].upper() + policy.reason[1:]), cited
        )

    return _treat(result, case, knowledge, settings, criteria, on, birth, diagnosis, cited)


def treated_category(case: Case, knowledge: Knowledge) -> bool:
    """False when the infant's disease category is one the pack does not treat and no site
    setting can change that (asymptomatic): a running course's dose is then not to be raised
    (probe11 W2; the monitoring pathway asks before a dose-below-target alert)."""
    if case.congenital is None:
        return True
    criteria = knowledge.table("congenital_criteria", CongenitalCriteria)
    category, _ = classify(case, criteria, PathwayResult())
    policy = criteria.policy(category)
    return policy.outcome == "recommended" or policy.setting is not None


def classify(
    case: Case, criteria: CongenitalCriteria, result: PathwayResult
) -> tuple[str, tuple[str, ...]]:
    """The disease category (moderate_severe, mild, isolated_snhl, asymptomatic) and its citations."""
    assert case.congenital is not None
    found = case.congenital.manifestations
    snhl = case.congenital.hearing in _SNHL
    groups = [criteria.group_of(m) for m in found]
    rule = criteria.severity
    cited = result.cite(rule, "moderate/severe disease definition")
    for m in criteria.manifestations:
        if m.name in found:
            cited = (*cited, *result.cite(m, f"manifestation {m.name}"))
    said = case.presentation.severity if case.presentation else None
    if not found:
        return ("isolated_snhl" if snhl else "asymptomatic"), cited
    cns = "cns" in groups or (snhl and rule.snhl_counts_as_cns)
    systemic = groups.count("systemic")
    if cns:
        return "moderate_severe", cited
    if systemic >= rule.moderate_min_systemic:
        return ("mild" if said == "mild" else "moderate_severe"), cited
    return (
        "moderate_severe" if said in ("moderate", "severe", "life_threatening") else "mild"
    ), cited


def _diagnosis(case: Case, criteria: CongenitalCriteria, birth: date) -> Diagnosis | None:
    """The diagnosis of ``case.congenital.diagnosis``, else the earliest positive PCR that qualifies."""
    rule = criteria.diagnosis
    candidates: list[tuple[date, str]] = []
    assert case.congenital is not None
    if case.congenital.diagnosis is not None:
        candidates.append((case.congenital.diagnosis.date, case.congenital.diagnosis.specimen))
    for o in case.results("cmv_dna"):
        if o.specimen is not None and (
            o.result in _POSITIVE or (o.value is not None and o.value > 0)
        ):
            candidates.append((o.date, o.specimen))
    best: tuple[int, date, str] | None = None
    for day, specimen in candidates:
        age = (day - birth).days
        if specimen in rule.confirming_specimens and age <= rule.max_age_days:
            rank = 0
        elif specimen in rule.late_specimens:
            rank = 1
        else:
            rank = 2
        if best is None or (rank, day, specimen) < best:
            best = (rank, day, specimen)
    if best is None:
        return None
    rank, day, specimen = best
    return Diagnosis(specimen, day, (day - birth).days, _VERDICTS[rank])


#: the verdicts of ``_diagnosis``, best first (the earliest of the best verdict is the diagnosis)
_VERDICTS = ("confirmed", "late", "unconfirmed")


def _treat(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    criteria: CongenitalCriteria,
    on: date,
    birth: date,
    diagnosis: Diagnosis,
    cited: tuple[str, ...],
) -> PathwayResult:
    plan = criteria.plan
    trial = criteria.trial_population
    trial_cited = result.cite(trial, "trial population (Kimberlin 2015)")
    courses = [
        c for c in therapy_courses(case.therapy) if c.drug in (plan.drug, plan.iv_alternative_drug)
    ]
    start = min((c.start for c in courses), default=on)
    stop = add_months(start, plan.duration_months)
    running = [c for c in courses if c.active_on(on)]
    held = [c for c in courses if held_on(c, courses, on)] if not running else []
    if courses and not running and not (held and on <= stop):
        return _course_over(result, case, courses, on, start, stop, cited)
    # a hold still active: the dose is the dose when restarted, never "give" (probe session 4,
    # D3), whether recorded (stop_reason: held_toxicity) or read from the counts of a running
    # course (the walk of the monitoring alerts: a count below the hold level, not yet above the
    # restart level; probe9 #6). The decision is then ``excluded`` (ADR 0029, 0031).
    holding = still_held(case, knowledge, settings, held[-1], on) if held else None
    counted = (
        count_holds(case, knowledge, settings, running[-1].drug, running[-1].start, on)
        if running
        else ()
    )
    age_at_start = (start - birth).days
    weight, weighed = _weight_on(case, start)
    assert case.congenital is not None
    ga_text = case.congenital.gestational_age_at_birth
    outside: list[str] = []
    continuing = ""
    if diagnosis.status == "late":
        outside.append(f"late diagnosis ({diagnosis.specimen} on day {diagnosis.age_days})")
    if age_at_start > trial.max_start_age_days:
        outside.append(
            f"start on day {age_at_start} of life (trial: by day {trial.max_start_age_days})"
        )
    if ga_text is None:
        result.missing.append(
            Missing(
                "congenital.gestational_age_at_birth",
                "the trial enrolled infants born at ≥ 32 weeks",
            )
        )
    elif GestationalAge.parse(ga_text).days < trial.min_gestational_age_weeks * 7:
        outside.append(f"born at {ga_text} weeks (trial: ≥ {trial.min_gestational_age_weeks}+0)")
    if weight is None:
        result.missing.append(
            Missing("weight", "the dose is per kg and the trial enrolled infants ≥ 1.8 kg")
        )
    elif weight < trial.min_weight_kg:
        outside.append(f"weight {weight} kg {weighed} (trial: ≥ {trial.min_weight_kg} kg)")
    # the trial's renal entry criterion (probe11 S2): its alert and missing length come with the
    # dose (the dosing engine reads the same rule); here it places the infant outside the trial
    renal = infant_renal(dose_patient_from_case(case, on), knowledge, result)
    renal_outside = renal is not None and renal.impaired
    if renal is not None and renal.impaired:
        outside.append(renal.text)
    for missing in renal.missing if renal is not None else ():
        if missing not in result.missing:
            result.missing.append(missing)
    # a reported genotype read through the resistance engine (probe11 S1)
    genotype = (
        read_genotype(
            case,
            knowledge,
            criteria.genotype,
            (plan.drug, plan.iv_alternative_drug),
            on,
            result,
        )
        if criteria.genotype is not None
        else None
    )
    resistant = genotype is not None and bool(genotype.resistant)
    result.findings["congenital"]["trial_population"] = "outside" if outside else "inside"

    # debt22: a running IV ganciclovir course is read as the drug it is, never as a valganciclovir
    # course dated from its start: it goes on until oral therapy is stated possible, and the
    # switch to oral valganciclovir is dated today
    bridging = bool(running) and running[-1].drug == plan.iv_alternative_drug
    oral_unknown = bridging and case.patient.can_take_oral is None
    drug = (
        plan.iv_alternative_drug
        if case.patient.can_take_oral is False or oral_unknown
        else plan.drug
    )
    switch_today = bridging and drug == plan.drug
    reasons = [
        f"Congenital CMV confirmed ({diagnosis.specimen} PCR on day {diagnosis.age_days} of life); moderately to "
        "severely symptomatic disease.",
    ]
    if oral_unknown:
        reasons.append(
            f"On IV {drug}: continue it until oral therapy is possible (patient.can_take_oral "
            f"not stated), then oral {plan.drug}."
        )
    elif drug != plan.drug:
        reasons.append(
            f"Oral therapy is not possible: IV {drug} until it is, then oral {plan.drug}."
        )
    elif switch_today:
        reasons.append(
            f"On IV {plan.iv_alternative_drug}; oral therapy is possible: switch to oral "
            f"{plan.drug} from {on}."
        )
    if outside:
        outcome = Outcome.SPECIALIST_REVIEW
        reasons.append(
            f"Outside the trial evidence: {'; '.join(outside)}."
            + (
                ""
                if renal_outside or resistant
                else " The dose below is what a clinician would use if they proceed."
            )
        )
        result.alerts.append(
            Alert(
                AlertCode.OUTSIDE_EVIDENCE_BASE,
                Severity.WARNING,
                f"Valganciclovir for congenital CMV outside the trial population: {'; '.join(outside)}.",
                trial_cited,
            )
        )
    elif ga_text is None or weight is None:
        outcome = Outcome.INSUFFICIENT_DATA
        reasons.append("The trial criteria cannot be checked (see missing).")
    else:
        outcome = Outcome.RECOMMENDED
        if running and on > stop:
            outcome = Outcome.SPECIALIST_REVIEW
            reasons.append(
                f"The planned {plan.duration_months}-month course was complete on {stop}: stop "
                f"{running[-1].drug} and record the stop date (therapy[].stop, stop_reason completed), "
                "unless a specialist has decided to continue it."
            )
            reasons.append(
                f"On {running[-1].drug} since {start} (day {age_at_start} of life), continued beyond the "
                f"{plan.duration_months} months of trial evidence (ended {stop}): a specialist's risk–benefit "
                "decision (resistance, neutropenia vs hearing and neurodevelopment). If continued: the dose "
                "below on the current weight, the viral load monthly and drug levels where available."
            )
            calendar = knowledge.tables.get("congenital_follow_up")
            if isinstance(calendar, FollowUpCalendar):
                summary, review_cited = long_course_review(
                    case, calendar, result, running[-1].drug, start, stop, on
                )
                reasons.append(summary)
                cited = (*cited, *review_cited)
        elif running and counted:
            outcome = Outcome.EXCLUDED
            continuing = (
                f"On {running[-1].drug} since {start} (day {age_at_start} of life): hold it now — a "
                f"temporary hold, not the end of the course: {hold_reason(counted)}; then complete "
                f"{plan.duration_months} months on {stop}."
            )
            reasons.append(continuing)
        elif running:
            continuing = (
                f"On {running[-1].drug} since {start} (day {age_at_start} of life): continue to complete "
                f"{plan.duration_months} months on {stop}."
            )
            reasons.append(continuing)
        elif held and holding:
            outcome = Outcome.EXCLUDED
            reasons.append(
                f"{held[-1].drug} since {start} (day {age_at_start} of life), held since {held[-1].stop} for "
                f"toxicity: the course is not completed; keep holding: {holding.reason()}. Then complete "
                f"{plan.duration_months} months on {stop}; the dose below is the dose when restarted."
            )
        elif held:
            unmeasured = unmeasured_since_hold(case, knowledge, settings, held[-1], on)
            reasons.append(
                f"{held[-1].drug} since {start} (day {age_at_start} of life), held since {held[-1].stop} for "
                f"toxicity: the course is not completed. The count that caused the hold has recovered "
                f"(see the alerts): restart and complete {plan.duration_months} months on {stop}."
                + (
                    f" Not measured since the hold: {', '.join(unmeasured)} — measure them with the "
                    "restart (a full blood count)."
                    if unmeasured
                    else ""
                )
            )
        else:
            reasons.append(
                f"Start by day {trial.max_start_age_days} of life; {plan.duration_months} months of therapy."
            )

    if renal is not None and renal.text and not renal.impaired:
        reasons.append(f"Renal function read: {renal.text}.")
    if genotype is not None:
        cited = (*cited, *genotype.citations)
        if resistant:
            # never "continue" a drug the genotype confers resistance to (probe11 S1)
            if continuing in reasons and continuing:
                reasons.remove(continuing)
                continuing = ""
            if outcome in (Outcome.RECOMMENDED, Outcome.EXCLUDED, Outcome.INSUFFICIENT_DATA):
                outcome = Outcome.SPECIALIST_REVIEW
            result.alerts.append(
                Alert(
                    AlertCode.GENOTYPIC_RESISTANCE,
                    Severity.CRITICAL,
                    genotype.text,
                    genotype.citations,
                )
            )
        reasons.append(genotype.text)
    if counted and not continuing:
        # outside the trial, beyond 6 months or missing data: the hold stands all the same
        reasons.append(f"Hold {running[-1].drug} now — a temporary hold: {hold_reason(counted)}.")
    cited = (*cited, *(c for hold in counted for c in hold.limit.citations))
    plan_cited = result.cite(plan, "6-month plan")
    if weight is not None and not resistant:
        patient = dose_patient_from_case(case, on)
        dose = recommend_dose(patient, drug, Indication.CONGENITAL, knowledge)
        for alert in dose.alerts:
            if alert not in result.alerts:
                result.alerts.append(alert)
        for missing in dose.missing:
            if missing not in result.missing:
                result.missing.append(missing)
        if dose.regimen is not None:
            if drug != plan.drug:
                # IV ganciclovir is a bridge until oral valganciclovir is possible, not a 6-month
                # course
                built = dose.as_regimen(
                    start=on if not running else start,
                    stop=None,
                    stop_rule=f"until oral {plan.drug} is possible; the whole course ends on "
                    f"{stop} ({plan.stop_rule})",
                )
            elif running and on > stop:
                # beyond the evidence (seed 001: severe cases): the weight-correct dose, no stop
                built = dose.as_regimen(
                    start=start,
                    stop=None,
                    stop_rule=f"continued beyond the planned course (ended {stop}): a specialist's "
                    "decision, reviewed monthly",
                )
            else:
                built = dose.as_regimen(
                    start=on if switch_today else start, stop=stop, stop_rule=plan.stop_rule
                )
            # every regimen of the course: the weight it used, and the hold while one is active
            regimen = weighed_regimen(built, patient, result, knowledge, settings, on)
            if holding:
                regimen = replace(regimen, held=holding.held_text())
            elif counted:
                regimen = replace(regimen, held=held_text(counted))
            result.regimens.append(regimen)
        else:
            if (
                running
                and not counted
                and dose.outcome is Outcome.EXCLUDED
                and continuing in reasons
            ):
                # a running course the label says not to give today is held, not ended (outside
                # probe, session 4, D10); the outcome vocabulary has no "hold": it stays excluded
                reasons[reasons.index(continuing)] = (
                    f"On {running[-1].drug} since {start} (day {age_at_start} of life): hold it now — "
                    "a temporary hold, not the end of the course: restart when the count recovers "
                    f"(see the alerts) and complete {plan.duration_months} months on {stop}."
                )
            said = tuple(r for r in dose.reasons if not (renal_outside and r.startswith("Outside")))
            reasons.append(_no_dose(dose.outcome, said, dose.missing))
            if outcome == Outcome.RECOMMENDED:
                outcome = Outcome(dose.outcome.value)
        cited = (*cited, *dose.citations)
        if not courses:
            plan_schedule(result, knowledge, case.context.value, drug, start, stop, since=on)
    all_cited = tuple(dict.fromkeys((*cited, *trial_cited, *plan_cited)))
    return _decide(result, outcome, reasons, all_cited)


def _follow_up(
    result: PathwayResult, knowledge: Knowledge, category: str, birth: date, on: date
) -> None:
    """The long-term follow-up calendar to school age (hearing, eyes, neurodevelopment), from
    ``congenital/follow_up.yaml``: one schedule item per visit from ``on`` onward, dated from birth.
    An item already planned is planned once; ``evaluate`` calls this on an empty schedule, where
    the pack's distinct visits (``_FollowUpVisits.distinct``) cannot plan one twice."""
    visits = knowledge.derived(_follow_up_visits)
    planned = None if visits.distinct and not result.schedule else set(result.schedule)
    for visit in visits.by_category.get(category, visits.unrestricted):
        days = months_on_or_after(birth, visit.months, on)
        if not days:
            continue
        cited = result.cite(visit.row, visit.what)
        items = schedule_items(visit.event, days, cited, visit.row.reason)
        if planned is None:
            result.schedule += items
            continue
        for item in items:
            if item not in planned:
                planned.add(item)
                result.schedule.append(item)


@dataclass(frozen=True)
class _Visit:
    """A follow-up visit row as the calendar reads it: its event, months from birth, and the
    words of its citation (``_follow_up_visits``)."""

    row: FollowUpVisit
    event: ScheduleEvent
    months: range
    what: str


@dataclass(frozen=True)
class _FollowUpVisits:
    """The pack's follow-up visits for each disease category, in the calendar's order.
    ``distinct``: no two visits share event, citations and reason, so no two planned items can
    be equal (a visit's own dates all differ) and the calendar needs no de-duplication."""

    by_category: Mapping[str, tuple[_Visit, ...]]
    unrestricted: tuple[_Visit, ...]  # the visits of every category (for any other word)
    distinct: bool


def _follow_up_visits(knowledge: Knowledge) -> _FollowUpVisits:
    """Built once per pack (``Knowledge.derived``): each case used to re-read every visit row and
    convert its event, per planned date (issue 20)."""
    calendar = knowledge.tables.get("congenital_follow_up")
    if not isinstance(calendar, FollowUpCalendar):
        return _FollowUpVisits({}, (), True)
    visits = [
        _Visit(
            v,
            ScheduleEvent(v.event),
            range(v.from_months, v.until_months + 1, v.every_months),
            f"congenital CMV follow-up {v.id}",
        )
        for v in calendar.visits
    ]
    by_category = {
        category: tuple(v for v in visits if not v.row.categories or category in v.row.categories)
        for category in get_args(Category)
    }
    unrestricted = tuple(v for v in visits if not v.row.categories)
    keys = {(v.event, v.row.citations, v.row.reason) for v in visits}
    return _FollowUpVisits(by_category, unrestricted, len(keys) == len(visits))


def _no_dose(outcome: Outcome, reasons: tuple[str, ...], missing: tuple[Missing, ...]) -> str:
    """Why the dosing engine gave no dose, in one clean sentence (its regimen label left out)."""
    why = [clause(r) for r in reasons if not r.startswith("Regimen:")]
    why += [f"it needs {m.item} ({m.why})" for m in missing]
    return (
        f"No dose from the dosing engine ({outcome.value}): {'; '.join(why) or 'see its alerts'}."
    )


#: what a course stopped early for means for this pathway (therapy[].stop_reason)
_STOPPED_FOR = {
    "switched": "switched to another drug or route: record the new course (this pathway follows "
    "(val)ganciclovir; the monitoring pathway follows any drug in therapy)",
    "intolerance": "intolerance: whether to resume or use an alternative is a specialist decision",
    "resistance": "suspected resistance: see resistance-genotyping; an alternative is a specialist decision",
    "other": "a reason recorded as other: a specialist decides whether to resume",
    "held_toxicity": "toxicity and not resumed within the planned course",
}


def _course_over(
    result: PathwayResult,
    case: Case,
    courses: list[Course],
    on: date,
    start: date,
    stop: date,
    cited: tuple[str, ...],
) -> PathwayResult:
    """No course runs today: completed, stopped early for a recorded reason, or stopped early
    without one (asked for: a course held for toxicity is not a finished course)."""
    drugs = ", ".join(dict.fromkeys(c.drug for c in courses))
    last_course = max(courses, key=lambda c: c.stop or on)
    last = last_course.stop or on
    why = last_course.entries[-1].stop_reason
    if why in ("completed", "clinical_resolution") or (why is None and last >= stop):
        reason = (
            f"Course of {drugs} from {start} to {last} completed; no further antiviral therapy."
        )
        return _decide(result, Outcome.NOT_INDICATED, reason, cited)
    if why is None:
        result.missing.append(
            Missing(
                "therapy.stop_reason",
                f"why {drugs} stopped on {last}, before the planned {stop} (completed, held_toxicity, "
                "switched, intolerance, resistance …): a course held for toxicity resumes",
            )
        )
        reason = (
            f"Course of {drugs} from {start} stopped on {last}, before the planned end {stop}; the reason "
            "is not recorded, so it is not read as completed."
        )
        return _decide(result, Outcome.INSUFFICIENT_DATA, reason, cited)
    reason = (
        f"Course of {drugs} from {start} stopped on {last} (planned end {stop}) for "
        f"{_STOPPED_FOR[why]}."
    )
    return _decide(result, Outcome.SPECIALIST_REVIEW, reason, cited)


def _weight_on(case: Case, day: date) -> tuple[Decimal | None, str]:
    """The weight at the start of treatment ``day`` and when it was weighed, in words: the latest
    weight on or before ``day``, else the current ``patient.weight_kg`` when the start is the
    assessment date, else the birth weight (weighed before any start), else the earliest weight
    after the start, named as such (probe8 S2: the current 0.62 kg was called the weight "at
    the start" of a course begun months earlier at 3.2 kg)."""
    weights = [o for o in case.results("weight") if o.value is not None]
    before = [o for o in weights if o.date <= day]
    if before:
        return before[-1].value, "at the start"
    if case.patient.weight_kg is not None and day >= case.assessed_on:
        return case.patient.weight_kg, "at the start"
    if case.congenital is not None and case.congenital.birth_weight_kg is not None:
        return case.congenital.birth_weight_kg, "at the start"  # weighed at birth, before it
    if weights:
        return weights[0].value, f"on {weights[0].date}, the first weight after the start ({day})"
    if case.patient.weight_kg is not None:
        return (
            case.patient.weight_kg,
            f"on {case.assessed_on}, the only weight known (the start was {day})",
        )
    return None, ""


def _decide(
    result: PathwayResult, outcome: Outcome, reasons: str | list[str], citations: tuple[str, ...]
) -> PathwayResult:
    texts = (reasons,) if isinstance(reasons, str) else tuple(reasons)
    result.decisions.append(
        Decision(
            _DECISION,
            outcome,
            texts,
            tuple(dict.fromkeys(citations)),
            rules=("N1", "N2", "N3", "N4"),
        )
    )
    return result
