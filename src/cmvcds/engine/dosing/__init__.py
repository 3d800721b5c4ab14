"""The dose calculator: every CMV antiviral dosed from its label tables (design.md §4).

Public API::

    DosePatient, dose_patient_from_case(case, on)            what a dose needs to know
    recommend_dose(patient, drug, indication, knowledge, *, regimen=None, route=None,
                   region="us", weight_basis="actual") -> DoseResult
    DoseResult.to_dict()         the cmvcds-dose/1 JSON
    DoseResult.as_regimen(...)   / as_regimens(...) for the assessment's regimens
    check_dose(PrescribedDose, patient, knowledge, *, region="us") -> DoseCheck
    running_course_alerts(label, patient, region="us")  interactions of a course already running

Modules: ``patient`` (inputs), ``recommend`` (the label rows → a regimen), ``result`` (frozen
values and JSON), ``check`` (an order against the recommendation), ``interactions`` (the label's co-medication
rows a patient triggers), ``protocol`` (a row's protocol
exclusions, applied by that pathway's own function: the AIFA 648/96 rule A7 for valacyclovir in
pregnancy). Renal formulas are in ``engine.renal``. Numbers come from ``knowledge/data/drugs/``; none is typed here.
"""

from cmvcds.engine.dosing.check import DoseCheck, PrescribedDose, check_dose
from cmvcds.engine.dosing.interactions import running_course_alerts
from cmvcds.engine.dosing.patient import DosePatient, dose_patient_from_case
from cmvcds.engine.dosing.recommend import drug_label, drugs_available, recommend_dose
from cmvcds.engine.dosing.result import DOSE_FORMAT, DoseRegimen, DoseResult, RenalResult

__all__ = [
    "DOSE_FORMAT",
    "DoseCheck",
    "DosePatient",
    "DoseRegimen",
    "DoseResult",
    "PrescribedDose",
    "RenalResult",
    "check_dose",
    "dose_patient_from_case",
    "drug_label",
    "drugs_available",
    "recommend_dose",
    "running_course_alerts",
]
