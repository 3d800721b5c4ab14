"""FHIR R4 resources for the mapping's and the export's tests, built with ``fhir.resources``
(validated as the EHR's would be): the code systems, an Observation of one patient, a dose in
mg, a dosage, and a model as the JSON an EHR sends. One module, so that the FHIR tests of the
mapping (``tests/fhir``) and of a Bulk Data export (``tests/bulk``) build the same resources."""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.observation import Observation

__all__ = ["LOINC", "RXNORM", "UCUM", "as_json", "dosage", "mg", "observation_model"]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def as_json(model: Any) -> dict[str, Any]:
    """The resource as the EHR sends it (JSON)."""
    out: dict[str, Any] = json.loads(model.model_dump_json(by_alias=True, exclude_none=True))
    return out


def observation_model(
    ident: str, code: str, when: str, patient: str = "p1", **value: Any
) -> Observation:
    """A final LOINC-coded Observation of ``Patient/<patient>`` on ``when``."""
    return Observation(
        id=ident,
        status="final",
        subject={"reference": f"Patient/{patient}"},
        code={"coding": [{"system": LOINC, "code": code}]},
        effectiveDateTime=when,
        **value,
    )


def mg(value: float) -> dict[str, Any]:
    """A dose quantity in mg (UCUM)."""
    return {"value": value, "unit": "mg", "system": UCUM, "code": "mg"}


def dosage(
    dose_mg: float, per_day: int = 1, start: str | None = None, end: str | None = None
) -> dict[str, Any]:
    """``dose_mg`` ``per_day`` times a day, within ``start``–``end`` when given."""
    repeat: dict[str, Any] = {"frequency": per_day, "period": 1, "periodUnit": "d"}
    if start is not None:
        repeat["boundsPeriod"] = {"start": start} | ({"end": end} if end else {})
    return {"timing": {"repeat": repeat}, "doseAndRate": [{"doseQuantity": mg(dose_mg)}]}
