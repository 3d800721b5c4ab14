"""The CDS therapy monitor on an infant's weight series (outside probe8 S2).

A 4-month-old on valganciclovir 51 mg every 12 h, weighed 4.0 → 4.8 → 5.5 kg a month apart. A
next weight of 6.2 kg gives the Kimberlin 2015 dose 16 mg/kg × 6.2 = 99.2 mg (the order is below
it). A slip to 18 kg (×3.3 in a month; ``core/plausibility.yaml`` allows a doubling) gave "288 mg
twice daily, dose below target"; a slip to 0.62 kg gave a critical "5.1× overdose" card against a
correct order. Now no dose is computed on such a weight: the card asks to check it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation

from tests.conftest import TODAY

URL = "/cds-services/cmv-therapy-monitor"


def _day(days_ago: int) -> str:
    return str(TODAY - timedelta(days=days_ago))


def _weight(ident: str, days_ago: int, kg: float) -> dict[str, Any]:
    model = Observation.model_validate(
        {
            "resourceType": "Observation",
            "id": ident,
            "status": "final",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "effectiveDateTime": _day(days_ago),
            "valueQuantity": {
                "value": kg,
                "unit": "kg",
                "system": "http://unitsofmeasure.org",
                "code": "kg",
            },
        }
    )
    return dict(json.loads(model.model_dump_json(exclude_none=True)))


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }


def _request(last_kg: float) -> dict[str, Any]:
    order = MedicationRequest.model_validate(
        {
            "resourceType": "MedicationRequest",
            "id": "m1",
            "status": "active",
            "intent": "order",
            "subject": {"reference": "Patient/p1"},
            "authoredOn": _day(124),
            "medicationCodeableConcept": {
                "coding": [
                    {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "275891"}
                ],
                "text": "valganciclovir oral solution",
            },
            "dosageInstruction": [
                {
                    "timing": {
                        "repeat": {
                            "frequency": 1,
                            "period": 12,
                            "periodUnit": "h",
                            "boundsPeriod": {"start": _day(124)},
                        }
                    },
                    "route": {"coding": [{"system": "http://snomed.info/sct", "code": "26643006"}]},
                    "doseAndRate": [
                        {
                            "doseQuantity": {
                                "value": 51,
                                "unit": "mg",
                                "system": "http://unitsofmeasure.org",
                                "code": "mg",
                            }
                        }
                    ],
                }
            ],
        }
    )
    birth = _day(128)
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "P35.1"}]},
        "onsetDateTime": birth,
    }
    urine = dict(
        json.loads(
            Observation.model_validate(
                {
                    "resourceType": "Observation",
                    "id": "o6",
                    "status": "final",
                    "subject": {"reference": "Patient/p1"},
                    "code": {"coding": [{"system": "http://loinc.org", "code": "49347-8"}]},
                    "effectiveDateTime": _day(126),
                    "valueCodeableConcept": {
                        "coding": [{"system": "http://snomed.info/sct", "code": "260373001"}]
                    },
                }
            ).model_dump_json(exclude_none=True)
        )
    )
    weights = [
        _weight("o1", 97, 4.0),
        _weight("o2", 67, 4.8),
        _weight("o3", 36, 5.5),
        _weight("o4", 6, last_kg),
    ]
    return {
        "hook": "patient-view",
        "hookInstance": "b5f9b7d2-8e33-4b0e-9f3f-2f0f3c1e9a01",
        "context": {"userId": "Practitioner/pr1", "patientId": "p1"},
        "prefetch": {
            "patient": {
                "resourceType": "Patient",
                "id": "p1",
                "gender": "male",
                "birthDate": birth,
            },
            "observations": _searchset([*weights, urine]),
            "conditions": _searchset([condition]),
            "medications": _searchset([json.loads(order.model_dump_json(exclude_none=True))]),
            "administrations": _searchset([]),
            "reports": _searchset([]),
        },
    }


def test_a_plausible_weight_gives_the_dose_check(client: TestClient) -> None:
    cards = client.post(URL, json=_request(6.2)).json()["cards"]
    text = json.dumps(cards)
    assert "99.2 mg" in text  # 16 mg/kg × 6.2 kg
    assert "implausible" not in text.lower() and "Check the weight" not in text


def test_a_weight_slip_gives_no_dose_and_asks_to_check_the_weight(client: TestClient) -> None:
    response = client.post(URL, json=_request(18.0))
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    text = json.dumps(cards)
    assert "288 mg" not in text and "dose-below-target" not in text
    assert "below the labelled" not in text
    (card,) = [c for c in cards if "Check the weight" in c["summary"] + (c.get("detail") or "")]
    assert card["indicator"] == "critical"
    assert "18 kg on " in card["summary"]


def test_a_decimal_slip_below_the_weight_for_age_gives_no_overdose_card(
    client: TestClient,
) -> None:
    """0.62 kg at 4 months is below any infant of that age (at least 1 kg from 92 days): the
    record is not assessed on it, and the EHR is told so, never "5.1× overdose"."""
    response = client.post(URL, json=_request(0.62))
    assert response.status_code == 200, response.text
    text = json.dumps(response.json()["cards"])
    assert "dose-above-target" not in text and "overdose" not in text
    assert "9.92" not in text
    assert "0.62 kg is implausible" in text


def test_a_pregnant_80_year_old_gets_no_valacyclovir_card(client: TestClient) -> None:
    """probe8 W4: born 1945 with a pregnancy: a wrong birth date, said, never 'recommended'."""
    request = json.loads(
        (Path(__file__).parent / "fixtures" / "pregnancy-valacyclovir.request.json").read_text()
    )
    request["prefetch"]["patient"]["birthDate"] = "1945-01-01"
    response = client.post("/cds-services/cmv-pregnancy-valacyclovir", json=request)
    assert response.status_code == 200, response.text
    text = json.dumps(response.json()["cards"])
    assert "a pregnancy at 81 years of age is implausible" in text
    assert "2000 mg" not in text and "recommended" not in text.lower()
