"""FHIR data as an EHR integrator builds it (``fhir.resources`` R4B), for the probe14 tests.

The outside probe14 built every resource with ``fhir.resources.R4B`` and posted order-sign and
patient-view calls to the real app; these builders do the same, each resource validated by the
library and dumped as the JSON an EHR sends.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

from tests.conftest import TODAY

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
DOSE_CHECK = "/cds-services/cmv-antiviral-dose-check"
MONITOR = "/cds-services/cmv-therapy-monitor"
PID = "p14"


def _json(model: Any) -> dict[str, Any]:
    return dict(json.loads(model.model_dump_json(exclude_none=True)))


def day(days_ago: int) -> str:
    return str(TODAY - timedelta(days=days_ago))


def patient(gender: str = "female", birth: str = "1994-02-10") -> dict[str, Any]:
    return _json(Patient(id=PID, gender=gender, birthDate=birth))


def quantity(value: float, unit: str, code: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


def observation(ident: str, code: str, days_ago: int = 7, **value: Any) -> dict[str, Any]:
    """An Observation of LOINC ``code``; ``value`` holds its value[x] (and referenceRange …)."""
    return _json(
        Observation(
            id=ident,
            status="final",
            code={"coding": [{"system": LOINC, "code": code}]},
            subject={"reference": f"Patient/{PID}"},
            effectiveDateTime=day(days_ago),
            **value,
        )
    )


def snomed(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": SNOMED, "code": code, "display": display}]}


def pregnancy_condition() -> dict[str, Any]:
    return _json(
        Condition(
            id="c-preg",
            subject={"reference": f"Patient/{PID}"},
            clinicalStatus={
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            code=snomed("77386006", "Pregnant"),
            recordedDate=day(30),
        )
    )


def order(
    ident: str = "mr1",
    *,
    code: str | None = "313566",
    reference: str | None = None,
    dose: dict[str, Any] | None = None,
    every_h: int = 12,
    reason: dict[str, Any] | None = None,
    route: str | None = None,
    system: str = RXNORM,
) -> dict[str, Any]:
    """A draft MedicationRequest (``code`` of ``system``, RxNorm by default, or a
    ``medicationReference``)."""
    fields: dict[str, Any] = {
        "id": ident,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PID}"},
        "authoredOn": str(TODAY),
        "reasonCode": [reason or {"text": "induction"}],
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": every_h, "periodUnit": "h"}},
                "doseAndRate": [dose or {"doseQuantity": quantity(900, "mg")}],
                **({"route": {"coding": [{"system": SNOMED, "code": route}]}} if route else {}),
            }
        ],
    }
    if reference is not None:
        fields["medicationReference"] = {"reference": reference}
    else:
        fields["medicationCodeableConcept"] = {"coding": [{"system": system, "code": code}]}
    return _json(MedicationRequest(**fields))


def medication(ident: str, code: str) -> dict[str, Any]:
    return _json(Medication(id=ident, code={"coding": [{"system": RXNORM, "code": code}]}))


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return _json(Bundle(type="searchset", entry=[{"resource": r} for r in resources]))


def collection(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return _json(Bundle(type="collection", entry=[{"resource": r} for r in resources]))


def dose_request(
    orders: list[dict[str, Any]],
    observations: list[dict[str, Any]],
    *,
    who: dict[str, Any] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    hook: str = "order-sign",
    **extra: Any,
) -> dict[str, Any]:
    """An order-sign call with its prefetch (patient, observations, conditions, allergies)."""
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": "6f1c8e8e-1d2b-4c54-9b59-14aa00000014",
        "context": {
            "userId": "Practitioner/example",
            "patientId": PID,
            "draftOrders": collection(orders),
        },
        "prefetch": {
            "patient": who or patient(),
            "observations": searchset(observations),
            "conditions": searchset(conditions or []),
            "allergies": searchset([]),
        },
    }
    body.update(extra)
    return body


def renal_and_weight(kg: float = 65, creatinine: float = 0.7) -> list[dict[str, Any]]:
    return [
        observation("o-cr", "2160-0", valueQuantity=quantity(creatinine, "mg/dL")),
        observation("o-wt", "29463-7", valueQuantity=quantity(kg, "kg")),
    ]
