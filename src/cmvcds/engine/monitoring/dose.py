"""Is the dose in force right? The dosing engine's verdict on today's weight and kidneys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction

from cmvcds.domain.case import Case, TherapyCourse
from cmvcds.domain.memo import per_subject
from cmvcds.domain.results import Alert, Missing, PathwayResult
from cmvcds.domain.vocabulary import (
    AlertCode,
    Indication,
    Outcome,
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
            alert = unknown_indication_overdose(entry, patient, knowledge)
            if alert is not None and alert not in result.alerts:
                result.alerts.append(alert)
        return
    raise_ok = True
    if indication is Indication.CONGENITAL:
        # probe11 W2: never prompt a higher dose of a course the congenital pathway says is not
        # indicated (imported here: the congenital pathway imports this package)
        from cmvcds.engine.congenital import treated_category

        raise_ok = treated_category(case, knowledge)
    for alert in dose_alerts(entry, patient, knowledge, indication):
        if not raise_ok and alert.code is AlertCode.DOSE_BELOW_TARGET:
            continue
        if alert not in result.alerts:
            result.alerts.append(alert)


#: the indications a course recorded without one may be under (congenital and pregnancy rows
#: belong to other contexts, which ``indication_of`` or the pregnancy protocol already read)
_ANY_INDICATION = (
    Indication.INDUCTION,
    Indication.PREEMPTIVE,
    Indication.REFRACTORY,
    Indication.MAINTENANCE,
    Indication.PROPHYLAXIS,
)


def unknown_indication_overdose(
    entry: TherapyCourse, patient: DosePatient, knowledge: Knowledge
) -> Alert | None:
    """A course without an indication whose dose is above EVERY labelled dose for this patient
    today (review10): the order checked against the highest labelled weekly amount of the drug's
    indications for the patient's renal band (the treatment/induction row), with the dosing
    engine's ``dose-renal-adjustment``/``dose-above-target`` alert and severity. None when the
    order is within it, or when it cannot be compared (no dose, no labelled dose)."""
    if f"drug_{entry.drug}" not in knowledge.tables:
        return None
    if (entry.dose_mg is None and entry.dose_mg_per_kg is None) or entry.every_h is None:
        return None
    highest: tuple[Fraction, Indication] | None = None
    refused: list[tuple[Outcome, Indication]] = []
    for indication in _ANY_INDICATION:
        try:
            dose = recommend_dose(patient, entry.drug, indication, knowledge, route=entry.route)
        except CmvcdsError:
            continue
        if dose.outcome is not Outcome.RECOMMENDED or dose.regimen is None:
            refused.append((dose.outcome, indication))
            continue
        weekly = Fraction(dose.regimen.dose_mg) * Fraction(dose.regimen.doses_per_week)
        if highest is None or weekly > highest[0]:
            highest = (weekly, indication)
    if highest is None:
        return _no_labelled_dose(entry, patient, knowledge, refused)
    order = _prescribed(entry, highest[1])
    try:
        verdict = check_dose(order, patient, knowledge)
    except CmvcdsError:
        return None
    if verdict.status not in ("above", "renal-adjustment") or not verdict.alerts:
        return None
    alert = verdict.alerts[0]
    return Alert(
        alert.code,
        alert.severity,
        f"{entry.drug} course without a recorded indication, compared with the highest labelled "
        f"dose for this patient ({highest[1].value}): {alert.message} It is above every "
        "labelled dose of the drug; record the indication.",
        alert.citations,
    )


#: the outcomes of a course the label gives no dose for, the most severe first (review11 S1)
_REFUSALS = (Outcome.EXCLUDED, Outcome.SPECIALIST_REVIEW)


def _no_labelled_dose(
    entry: TherapyCourse,
    patient: DosePatient,
    knowledge: Knowledge,
    refused: list[tuple[Outcome, Indication]],
) -> Alert | None:
    """A course without an indication for which NO indication of the label has a dose for this
    patient today (review11 S1: valganciclovir 900 mg every 12 h on hemodialysis, VALCYTE §2.5
    Table 2/§8.6 "not recommended … use IV ganciclovir"): the dose check's alert for the first
    indication refused as ``excluded`` (critical), else as ``specialist_review`` (warning), its
    message prefixed with what was compared. None when the label has no row of the drug for
    any of these indications (``not_indicated`` only) or the order cannot be read."""
    for outcome in _REFUSALS:
        chosen = next((i for o, i in refused if o is outcome), None)
        if chosen is None:
            continue
        alert = _order_alert(entry, patient, knowledge, chosen)
        if alert is None:
            return None
        return Alert(
            alert.code,
            alert.severity,
            f"{entry.drug} course without a recorded indication: no indication of the label "
            f"has a dose of it for this patient. {alert.message}",
            alert.citations,
        )
    return None


def _prescribed(entry: TherapyCourse, indication: Indication) -> PrescribedDose:
    """The running course ``entry`` as the dose check's order for ``indication``."""
    return PrescribedDose(
        drug=entry.drug,
        indication=indication,
        dose_mg=entry.dose_mg,
        dose_mg_per_kg=entry.dose_mg_per_kg,
        every_h=entry.every_h,
        route=entry.route,
    )


def _order_alert(
    entry: TherapyCourse, patient: DosePatient, knowledge: Knowledge, indication: Indication
) -> Alert | None:
    """The dose check's own alert on ``entry`` ordered for ``indication``: a ``dose-*`` or
    ``renal-exclusion`` alert (an unverified fact, a blood-count limit — ``blood_counts``'s — an
    interaction or an intolerance is raised by its own rule); None when there is none."""
    order = _prescribed(entry, indication)
    try:
        verdict = check_dose(order, patient, knowledge)
    except CmvcdsError:
        return None
    return next((a for a in verdict.alerts if a.code in _DOSE_CODES), None)


#: the dose check's own alert codes (the rest are other rules' alerts carried by the answer)
_DOSE_CODES = (
    AlertCode.DOSE_ABOVE_TARGET,
    AlertCode.DOSE_BELOW_TARGET,
    AlertCode.DOSE_RENAL_ADJUSTMENT,
    AlertCode.RENAL_EXCLUSION,
)


def course_exclusion(
    case: Case, entry: TherapyCourse, patient: DosePatient, knowledge: Knowledge
) -> tuple[Alert, str] | None:
    """The critical alert and the label's reason when the running ``entry`` is of a drug the
    label EXCLUDES for this patient today (a renal band, the dialysis mode …; review11 S1): for
    its recorded indication, else when no indication of the label has a dose and at least one
    is excluded. A pathway never continues such a course; the reason names the label's
    alternative ("use IV ganciclovir …"). None otherwise."""
    indication = indication_of(case, entry, knowledge)
    wanted = (indication,) if indication is not None else _ANY_INDICATION
    doses = []
    for each in wanted:
        try:
            doses.append(recommend_dose(patient, entry.drug, each, knowledge, route=entry.route))
        except CmvcdsError:
            continue
    if any(d.outcome is Outcome.RECOMMENDED for d in doses):
        return None
    excluded = next((d for d in doses if d.outcome is Outcome.EXCLUDED), None)
    if excluded is None:
        return None
    if (entry.dose_mg is None and entry.dose_mg_per_kg is None) or entry.every_h is None:
        alert: Alert | None = None
    else:
        alert = _order_alert(entry, patient, knowledge, excluded.indication)
    why = next((r for r in reversed(excluded.reasons) if r), "")
    if alert is None or alert.severity is not Severity.CRITICAL:
        return None
    return alert, why


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
    order = _prescribed(entry, indication)
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


#: the observation codes that give renal function (the dose band of a course's start)
_RENAL = ("creatinine", "egfr", "creatinine_clearance_24h")
#: the label rows a course without an indication may be a prevention course of
_PREVENTION = (Indication.PROPHYLAXIS.value, Indication.MAINTENANCE.value)


def treatment_dose(case: Case, on: date, knowledge: Knowledge, entry: TherapyCourse) -> bool | None:
    """Is a course given without an indication at a treatment dose (review9b)?

    False for a drug the treatment rules never give as treatment (``not_treatment_drugs``:
    letermovir, whatever its dose). True for a drug whose label has no prophylaxis or
    maintenance dose (maribavir). Otherwise its daily dose is compared with the label's doses
    for the patient's renal function at the course's START (else at the first renal result
    during the course), never with today's (a prophylaxis course whose dose was not yet lowered
    after renal function fell is not treatment):

    - True only at or above the treatment (induction, else pre-emptive) dose of that band AND
      above every prophylaxis and maintenance dose of the label at any renal band (ganciclovir
      5 mg/kg every 12 h is also the label's first prophylaxis phase: never True);
    - False at or below the prophylaxis dose of that band and below its treatment dose;
    - None otherwise, or when the doses cannot be compared (no dose or interval, no renal
      result, no label dose): the callers keep their reading of a course without an indication
      and the monitoring pathway asks for it (``therapy:DRUG.indication``).
    """
    treatment = knowledge.tables.get("cmv_treatment")
    if isinstance(treatment, TreatmentRules) and entry.drug in treatment.not_treatment_drugs.values:
        return False
    try:
        label = drug_label(knowledge, entry.drug)
    except CmvcdsError:
        return None
    prevention = [
        row
        for row in label.regimens
        if row.outcome is None
        and set(_PREVENTION).intersection(row.indications)
        and (entry.route is None or row.route == entry.route)
    ]
    if not any(
        row.outcome is None and set(_PREVENTION).intersection(row.indications)
        for row in label.regimens
    ):
        return True  # maribavir: never a prophylaxis or maintenance drug
    if entry.every_h is None or (entry.dose_mg is None and entry.dose_mg_per_kg is None):
        return None
    found = _start_doses(case, on, knowledge, entry)
    if found is None:
        return None
    weight, treat, prevent = found
    daily = _daily(
        entry.dose_mg, entry.dose_mg_per_kg, Fraction(24) / Fraction(entry.every_h), weight
    )
    if daily is None:
        return None
    most = Fraction(0)
    for row in prevention:
        for band in row.bands:
            if band.refuse is not None:
                continue
            if band.every_h is not None:
                per_day = Fraction(24) / Fraction(band.every_h)
            elif band.doses_per_week is not None:
                per_day = Fraction(band.doses_per_week) / 7
            else:
                continue
            value = _daily(band.dose_mg, band.dose_mg_per_kg, per_day, weight)
            if value is None:
                return None  # a per-kg prevention dose and no weight: not comparable
            most = max(most, value)
    if treat is not None and daily >= treat and daily > most:
        return True
    if prevent is not None and daily <= prevent and (treat is None or daily < treat):
        return False
    return None


def _daily(
    dose_mg: Decimal | None, per_kg: Decimal | None, per_day: Fraction, weight: Decimal | None
) -> Fraction | None:
    """mg per day of a dose given in mg or mg/kg (``weight``), ``per_day`` times a day."""
    if dose_mg is not None:
        return Fraction(dose_mg) * per_day
    if per_kg is None or weight is None:
        return None
    return Fraction(per_kg) * Fraction(weight) * per_day


def _start_doses(
    case: Case, on: date, knowledge: Knowledge, entry: TherapyCourse
) -> tuple[Decimal | None, Fraction | None, Fraction | None] | None:
    """(weight, treatment mg/day, prophylaxis mg/day) of the dosing engine for the patient at
    the course's start, else on the first day with a renal result during the course; None when
    no day gives either dose."""
    later = {o.date for o in case.observations if o.code in _RENAL and entry.start < o.date <= on}
    days = [entry.start, *sorted(later)]
    for day in days:
        patient = dose_patient_from_case(case, day)
        treat = _engine_daily(patient, entry, knowledge, Indication.INDUCTION)
        if treat is None:
            treat = _engine_daily(patient, entry, knowledge, Indication.PREEMPTIVE)
        prevent = _engine_daily(patient, entry, knowledge, Indication.PROPHYLAXIS)
        if treat is not None or prevent is not None:
            return patient.weight_kg, treat, prevent
    return None


def _engine_daily(
    patient: DosePatient, entry: TherapyCourse, knowledge: Knowledge, indication: Indication
) -> Fraction | None:
    try:
        dose = recommend_dose(patient, entry.drug, indication, knowledge, route=entry.route)
    except CmvcdsError:
        return None
    return dose.regimen.daily_mg if dose.regimen is not None else None
