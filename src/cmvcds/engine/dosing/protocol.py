"""Protocol exclusions a regimen row names (``protocol_exclusions``), applied by their own pathway.

The valacyclovir pregnancy regimen (AIFA Law 648/96) is refused when rule A7 excludes the patient
(age, creatinine, GFR). Its thresholds live in ``pregnancy/protocol.yaml`` and the rule is the
pregnancy pathway's ``check_exclusions``: this module calls that function on a case holding what
the dose calculator knows, so the dose calculator and the pregnancy pathway cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from cmvcds.domain.case import Case, Observation, Patient
from cmvcds.domain.fast_init import fast_init
from cmvcds.domain.results import Missing, PathwayResult
from cmvcds.domain.vocabulary import Context
from cmvcds.engine.dosing.patient import DosePatient
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import ProtocolExclusions
from cmvcds.knowledge.schemas.pregnancy import DatingRules, PregnancyProtocol

__all__ = ["ProtocolVerdict", "protocol_exclusions"]


@fast_init
@dataclass(frozen=True)
class ProtocolVerdict:
    """What excludes (reasons), what is missing, whether a renal criterion excluded, why nothing
    excluded (when nothing did), and the citations of the rules."""

    excluded: tuple[str, ...]
    missing: tuple[Missing, ...]
    renal: bool
    passed: tuple[str, ...]
    citations: tuple[str, ...]
    #: the exclusion sends the dose to a specialist rather than refusing it (the congenital
    #: trial's renal entry criterion, probe11 S2)
    review: bool = False


def protocol_exclusions(
    protocol: ProtocolExclusions,
    patient: DosePatient,
    knowledge: Knowledge,
    collected: PathwayResult,
) -> ProtocolVerdict:
    """Apply ``protocol``'s exclusion rule to ``patient`` (unverified rules flagged in ``collected``).

    Raises ``InputError`` when the patient has no ``assessed_on`` (``dose_patient_from_case`` sets
    it): the protocol dates what it compares.
    """
    # Imported here: the pregnancy pathway imports the dose calculator for its regimen.
    from cmvcds.engine.pregnancy.dating import date_pregnancy
    from cmvcds.engine.pregnancy.exclusions import check_exclusions

    if protocol == "congenital_trial":
        return _congenital_trial(patient, knowledge, collected)
    assert protocol == "pregnancy_protocol"
    on = patient.assessed_on
    if on is None:
        raise InputError(
            "the pregnancy protocol's exclusions need the assessment date (dose_patient_from_case)",
            field="assessed_on",
        )
    case = _case(patient, on)
    rules = knowledge.table("pregnancy_protocol", PregnancyProtocol)
    since = None
    if patient.pregnancy is not None:  # the pathway counts only results of this pregnancy
        # dating disagreements are the pathway's alerts: kept out of the dose result
        dating = date_pregnancy(
            patient.pregnancy, knowledge.table("pregnancy_dating", DatingRules), PathwayResult()
        )
        since = dating.lmp if dating is not None else None
    found = check_exclusions(case, on, rules, knowledge, collected, since=since)
    passed: tuple[str, ...] = ()
    if not found.excluded and not found.missing:
        passed = (
            "No exclusion criterion of the AIFA protocol applies (rule A7): "
            + _findings(patient, found.findings)
            + ".",
        )
    return ProtocolVerdict(found.excluded, found.missing, found.renal, passed, found.citations)


def _congenital_trial(
    patient: DosePatient, knowledge: Knowledge, collected: PathwayResult
) -> ProtocolVerdict:
    """The congenital trial's renal entry criterion (``engine/congenital_renal.py``): an infant
    below it is outside the trial population, the full regimen a specialist's decision."""
    from cmvcds.engine.congenital_renal import infant_renal

    found = infant_renal(patient, knowledge, collected)
    if found is None:
        return ProtocolVerdict((), (), False, (), ())
    if found.impaired:
        return ProtocolVerdict(
            (f"Outside the trial population: {found.text}.",),
            (),
            True,
            (),
            found.citations,
            review=True,
        )
    # a missing length or birth-weight class is said, not made blocking: the dose does not
    # depend on it unless the estimate falls below the criterion (the pathway lists it as missing)
    passed = tuple(
        f"Renal entry criterion of the trial not checked: {m.item} is needed ({m.why})."
        for m in found.missing
    ) or ((f"Renal entry criterion of the trial: {found.text}.",) if found.text else ())
    return ProtocolVerdict((), (), False, passed, found.citations)


def _findings(patient: DosePatient, findings: dict[str, Any]) -> str:
    """Age, creatinine and GFR as the rule read them."""
    parts = [f"age {patient.age_years} years"]
    if "creatinine_mg_dl" in findings:
        parts.append(
            f"creatinine {findings['creatinine_mg_dl']} mg/dL on {findings.get('creatinine_date')}"
        )
    if "egfr" in findings:
        parts.append(f"GFR {findings['egfr']} ({findings.get('egfr_method')})")
    return ", ".join(parts)


def _case(patient: DosePatient, on: date) -> Case:
    """The case the pathway's rule reads: age, sex, height, the latest creatinine, eGFR and
    measured CrCl."""
    observations = tuple(
        o
        for o in (
            _observation(patient, "creatinine", patient.creatinine_mg_dl, "mg/dL", on),
            _observation(patient, "egfr", patient.egfr_ml_min_173, "mL/min/1.73m2", on),
            _observation(
                patient, "creatinine_clearance_24h", patient.measured_crcl_ml_min, "mL/min", on
            ),
        )
        if o is not None
    )
    return Case(
        id="cmvcds-dose",
        assessed_on=on,
        context=Context.PREGNANCY,
        # the height: under 18 the GFR criterion reads the bedside Schwartz estimate (fixr23b)
        patient=Patient.model_validate(
            {"age_years": patient.age_years, "sex": patient.sex, "height_cm": patient.height_cm}
        ),
        pregnancy=patient.pregnancy,
        observations=observations,
    )


def _observation(
    patient: DosePatient, code: str, value: Decimal | None, unit: str, on: date
) -> Observation | None:
    """The observation as the case reported it (its date and unit), else the value dated ``on``."""
    if value is None:
        return None
    for reported in patient.renal_observations:
        if reported.code == code and reported.value == value:
            return reported
    return Observation(date=on, code=code, value=value, unit=unit)
