"""Is the dose in force right? The dosing engine's verdict on today's weight and kidneys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from fractions import Fraction

from cmvcds.domain.case import Case, TherapyCourse
from cmvcds.domain.memo import per_subject
from cmvcds.domain.results import Alert, Missing, PathwayResult
from cmvcds.domain.vocabulary import (
    AlertCode,
    Indication,
    Severity,
)
from cmvcds.engine.dosing import (
    DosePatient,
    DoseResult,
    PrescribedDose,
    check_dose,
    dose_patient_from_case,
    drug_label,
    recommend_dose,
    running_course_alerts,
)
from cmvcds.engine.dosing.intolerance import intolerance_names, not_tolerated
from cmvcds.engine.dosing.recommend import dosing_policy
from cmvcds.engine.monitoring.common import CODE_ALERT, plain, pregnancy_protocol_course
from cmvcds.engine.monitoring.courses import Course
from cmvcds.errors import CmvcdsError, InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.transplant import TreatmentRules


def indication_of(case: Case, entry: TherapyCourse, knowledge: Knowledge) -> Indication | None:
    """The course's indication as given; else the one the context makes unambiguous (an infant's
    course is congenital therapy; a prophylaxis-only drug such as letermovir is prophylaxis)."""
    if entry.indication is not None:
        try:
            return Indication(entry.indication)
        except ValueError:
            return None
    context = case.context.value
    if context == "congenital":
        return Indication.CONGENITAL
    treatment = knowledge.tables.get("cmv_treatment")
    if (
        not pregnancy_protocol_course(case, knowledge, entry.drug)
        and isinstance(treatment, TreatmentRules)
        and entry.drug in treatment.not_treatment_drugs.values
    ):
        return Indication.PROPHYLAXIS
    return None


def check_course_dose(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    course: Course,
    on: date,
    patient: DosePatient,
) -> None:
    """Compare the dose in force with the dosing engine's recommendation on today's weight and kidneys."""
    entry = course.current(on)
    indication = indication_of(case, entry, knowledge)
    if indication is None:
        if not pregnancy_protocol_course(case, knowledge, course.drug):
            result.missing.append(
                Missing(
                    f"therapy:{course.drug}.indication",
                    f"the indication of the {course.drug} course is needed to check its dose",
                )
            )
        return
    for alert in dose_alerts(entry, patient, knowledge, indication):
        if alert not in result.alerts:
            result.alerts.append(alert)


def course_interactions(
    result: PathwayResult, knowledge: Knowledge, course: Course, patient: DosePatient
) -> None:
    """The label's interaction rows that the running course meets, whatever its dose or
    indication: another antiviral course counts (maribavir with ganciclovir or valganciclovir,
    LIVTENCITY US PI §5.1, §7.1), as do the ``medications`` courses running today."""
    _not_tolerated(result, knowledge, course, patient)
    if f"drug_{course.drug}" not in knowledge.tables:
        return
    for rule, alert in running_course_alerts(drug_label(knowledge, course.drug), patient):
        result.cite(rule, f"{course.drug} interaction {rule.id}")
        if alert not in result.alerts:
            result.alerts.append(alert)


def _not_tolerated(
    result: PathwayResult, knowledge: Knowledge, course: Course, patient: DosePatient
) -> None:
    """A running course of a drug the intolerance list bars (itself, or a drug its label says
    cross-reacts): one critical ``drug-intolerance`` alert, whether or not its dose is recorded
    (probe9 finding 1; the dose check leaves this alert to it)."""
    barring = not_tolerated(knowledge, patient.intolerances, course.drug)
    if not barring:
        return
    policy = knowledge.derived(dosing_policy)
    citations: list[str] = []
    for intolerance in barring:
        fact = intolerance.row if intolerance.row is not None else policy
        citations += [
            c
            for c in result.cite(fact, f"{course.drug}: recorded intolerance")
            if c not in citations
        ]
    alert = Alert(
        AlertCode.DRUG_INTOLERANCE,
        Severity.CRITICAL,
        f"{course.drug} is running (since {course.start}) although the patient's "
        f"intolerance list names {intolerance_names(barring)}: stop it, or confirm with a "
        f"specialist; {policy.intolerance}.",
        tuple(citations),
    )
    if alert not in result.alerts:
        result.alerts.append(alert)


def dose_alerts(
    entry: TherapyCourse, patient: DosePatient, knowledge: Knowledge, indication: Indication
) -> tuple[Alert, ...]:
    """The dosing engine's verdict on the dose in force (``dose-below/above-target`` …).

    Blood-count alerts of the label are left out: ``blood_counts`` reads the same label rows
    and adds the hold/resume logic; so are interaction alerts, which ``course_interactions``
    raises for every running course whether or not its dose can be checked.
    """
    return _patient_dose_alerts(patient, entry, knowledge, indication)


@per_subject
def _patient_dose_alerts(
    patient: DosePatient, entry: TherapyCourse, knowledge: Knowledge, indication: Indication
) -> tuple[Alert, ...]:
    """``dose_alerts``, remembered for the patient (``per_subject``: the frozen entry and pack by
    identity, the indication by value): the monitoring pathway's dose check and the below-target
    doses (refractory calls, T20, SOT prophylaxis) ask it of the same entry (issue 20)."""
    if f"drug_{entry.drug}" not in knowledge.tables:
        return ()
    if (entry.dose_mg is None and entry.dose_mg_per_kg is None) or entry.every_h is None:
        return ()
    order = PrescribedDose(
        drug=entry.drug,
        indication=indication,
        dose_mg=entry.dose_mg,
        dose_mg_per_kg=entry.dose_mg_per_kg,
        every_h=entry.every_h,
        route=entry.route,
    )
    try:
        verdict = check_dose(order, patient, knowledge)
    except InputError:
        return ()
    return tuple(
        a
        for a in verdict.alerts
        if a.code not in CODE_ALERT.values()
        and a.code not in (AlertCode.DRUG_INTERACTION, AlertCode.DRUG_INTOLERANCE)
    )


def describe_dose(dose: DoseResult) -> str:
    regimen = dose.regimen
    if regimen is None:
        return f"dose outcome {dose.outcome.value}: {'; '.join(dose.reasons)}"
    return f"now {plain(regimen.dose_mg)} mg {regimen.schedule} {regimen.route} ({regimen.band})"


def drugs_below_target(
    case: Case, knowledge: Knowledge, courses: Sequence[Course], on: date
) -> set[str]:
    """The drugs whose dose in force is below target (not appropriately dosed, Chemaly 2019)."""
    active = [c for c in courses if c.active_on(on)]
    if not active:
        return set()
    patient = dose_patient_from_case(case, on)
    low = set()
    for course in active:
        entry = course.current(on)
        indication = indication_of(case, entry, knowledge)
        alerts = dose_alerts(entry, patient, knowledge, indication) if indication else ()
        if any(a.code == AlertCode.DOSE_BELOW_TARGET for a in alerts):
            low.add(course.drug)
    return low


def treatment_dose(case: Case, on: date, knowledge: Knowledge, entry: TherapyCourse) -> bool | None:
    """Is a course given without an indication at a treatment dose? True for a drug the labels
    never give as prophylaxis (foscarnet, cidofovir, maribavir) or a daily dose above the dosing
    engine's prophylaxis dose for the patient on ``on``; False at or below it; None when the
    doses cannot be compared (no dose or interval given, no prophylaxis dose today). The
    transplant pathway and the monitoring engine read such a course alike (probe9 #3)."""
    try:
        label = drug_label(knowledge, entry.drug)
    except CmvcdsError:
        return None
    if not any(
        Indication.PROPHYLAXIS.value in row.indications and row.outcome is None
        for row in label.regimens
    ):
        return True  # foscarnet, cidofovir, maribavir: never a prophylaxis drug
    if entry.every_h is None or (entry.dose_mg is None and entry.dose_mg_per_kg is None):
        return None
    try:
        dose = recommend_dose(
            dose_patient_from_case(case, on),
            entry.drug,
            Indication.PROPHYLAXIS,
            knowledge,
            route=entry.route,
        )
    except CmvcdsError:
        return None
    regimen = dose.regimen
    if regimen is None:
        return None
    per_day = Fraction(24) / Fraction(entry.every_h)
    if entry.dose_mg is not None:
        return Fraction(entry.dose_mg) * per_day > regimen.daily_mg
    if entry.dose_mg_per_kg is None or regimen.dose_mg_per_kg is None or regimen.every_h is None:
        return None
    target = Fraction(regimen.dose_mg_per_kg) * Fraction(24) / Fraction(regimen.every_h)
    return Fraction(entry.dose_mg_per_kg) * per_day > target
