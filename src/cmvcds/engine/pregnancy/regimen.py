"""The valacyclovir regimen of a pregnancy decision, computed by the dosing engine (never typed here)."""

from __future__ import annotations

from datetime import date

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult, Regimen
from cmvcds.domain.vocabulary import AlertCode, Indication, Outcome
from cmvcds.engine.dosing import (
    PrescribedDose,
    check_dose,
    dose_patient_from_case,
    recommend_dose,
)
from cmvcds.knowledge import Knowledge

__all__ = ["course_start", "dose_in_force", "valacyclovir_regimen"]


def valacyclovir_regimen(
    case: Case,
    on: date,
    indication: Indication,
    knowledge: Knowledge,
    result: PathwayResult,
    *,
    start: date,
    stop: date | None,
    stop_rule: str,
) -> tuple[Regimen | None, tuple[str, ...], Outcome]:
    """The regimen (None when the dosing engine recommends none), the dosing engine's reasons and
    the decision's outcome; without a regimen, the reasons start with a sentence saying why."""
    if case.patient.can_take_oral is False:
        # probe13 S1: the protocol's valacyclovir is tablets only (2 g every 6 hours by mouth)
        return None, (NOT_ORAL,), Outcome.SPECIALIST_REVIEW
    dose = recommend_dose(dose_patient_from_case(case, on), "valacyclovir", indication, knowledge)
    result.alerts.extend(a for a in dose.alerts if a not in result.alerts)
    if dose.outcome is not Outcome.RECOMMENDED or dose.regimen is None:
        result.missing.extend(m for m in dose.missing if m not in result.missing)
        outcome = no_regimen(dose.outcome)
        lead = NO_REGIMEN[outcome]
        if any(a.code is AlertCode.DRUG_INTOLERANCE for a in dose.alerts):
            lead = INTOLERANT
        return None, (lead, *dose.reasons), outcome
    regimen = dose.as_regimen(start=start, stop=stop, stop_rule=stop_rule)
    return regimen, dose.reasons, Outcome.RECOMMENDED


def dose_in_force(
    case: Case, on: date, indication: Indication, knowledge: Knowledge, result: PathwayResult
) -> tuple[str, ...]:
    """A valacyclovir course in force compared with the protocol dose (probe9 finding 7: 1 g
    every 8 hours, 3 g/day, went unflagged beside the protocol's 2 g every 6 hours, 8 g/day): the
    dosing engine's ``dose-below-target`` / ``dose-above-target`` alert, as the congenital and
    monitoring pathways raise it, and a reason. A course recorded without its dose is said so."""
    reasons: list[str] = []
    patient = dose_patient_from_case(case, on)
    for entry in case.therapy:
        if entry.drug != "valacyclovir" or entry.start > on or (entry.stop and entry.stop < on):
            continue
        if entry.indication is not None and entry.indication not in _PROTOCOL:
            continue
        if (entry.dose_mg is None and entry.dose_mg_per_kg is None) or entry.every_h is None:
            reasons.append(
                f"Valacyclovir in force since {entry.start}: its dose is not recorded "
                "(therapy dose_mg, every_h), so it cannot be compared with the protocol dose (A3)."
            )
            continue
        order = PrescribedDose(
            drug=entry.drug,
            indication=indication,
            dose_mg=entry.dose_mg,
            dose_mg_per_kg=entry.dose_mg_per_kg,
            every_h=entry.every_h,
            route=entry.route,
        )
        for alert in check_dose(order, patient, knowledge).alerts:
            if alert.code not in _DOSE_CODES:
                continue  # the recommendation's own alerts are the decision's already
            reasons.append(
                f"Valacyclovir in force since {entry.start}: {alert.message} Give the "
                "protocol dose (A3)."
            )
            if alert not in result.alerts:
                result.alerts.append(alert)
    return tuple(reasons)


_DOSE_CODES = (AlertCode.DOSE_BELOW_TARGET, AlertCode.DOSE_ABOVE_TARGET)
_PROTOCOL = frozenset({Indication.PREGNANCY_PREVENTION.value, Indication.FETAL_TREATMENT.value})

#: Why no regimen when the patient does not tolerate valacyclovir (probe9 finding 1).
INTOLERANT = (
    "Valacyclovir is not recommended for this patient, and the AIFA 648/96 protocol names no "
    "other drug: specialist review."
)


#: Why no regimen when the patient cannot take oral medication (probe13 S1).
NOT_ORAL = (
    "The patient cannot take oral medication (patient.can_take_oral): valacyclovir is given as "
    "tablets (2 g every 6 hours by mouth), and the AIFA 648/96 protocol names no other route or "
    "drug: specialist review."
)


#: Why the dose calculator gave no valacyclovir regimen, by its outcome (outside probe, session 4:
#: an exclusion was reported as "insufficient data" with an empty "gives no regimen:" line).
NO_REGIMEN = {
    Outcome.EXCLUDED: "The dose calculator excludes valacyclovir for this patient:",
    Outcome.INSUFFICIENT_DATA: "The dose calculator cannot give a valacyclovir dose yet (see what is missing):",
    Outcome.SPECIALIST_REVIEW: "The dose calculator leaves the valacyclovir dose to a specialist:",
}


def no_regimen(outcome: Outcome) -> Outcome:
    """The decision outcome when the dose calculator gives no regimen: its own outcome, except
    that a dose the calculator cannot give is never read as recommended or not indicated."""
    return outcome if outcome in NO_REGIMEN else Outcome.INSUFFICIENT_DATA


def course_start(case: Case, on: date, since: date) -> date:
    """The start of a valacyclovir course already given since ``since`` and still running, else ``on``."""
    running = [
        t.start
        for t in case.therapy
        if t.drug == "valacyclovir" and since <= t.start <= on and (t.stop is None or t.stop >= on)
    ]
    return min(running) if running else on
