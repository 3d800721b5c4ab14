"""CDS therapy monitor: a MedicationRequest without ``reasonCode`` is still dose-checked (review10).

The golden therapy-monitor request (valganciclovir 900 mg twice daily, no reasonCode: the
indication is unknown) for a kidney recipient (ICD-10 Z94.0) with creatinine 4.0 mg/dL and a
normal neutrophil count. Woman of 56 years, 68 kg: Cockcroft–Gault CrCl = 84 × 68 × 0.85 /
(72 × 4.0) = 16.9 mL/min, VALCYTE band 10–24 mL/min, whose highest labelled dose is induction
450 mg every 2 days (225 mg/day; valcyte-us-label). 1800 mg/day is 8× that: critical.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

URL = "/cds-services/cmv-therapy-monitor"
FIXTURE = Path(__file__).parent / "fixtures" / "therapy-monitor.request.json"


def _request() -> dict[str, Any]:
    request: dict[str, Any] = copy.deepcopy(json.loads(FIXTURE.read_text(encoding="utf-8")))
    medication = request["prefetch"]["medications"]["entry"][0]["resource"]
    assert "reasonCode" not in medication and "reasonReference" not in medication
    for entry in request["prefetch"]["observations"]["entry"]:
        resource = entry["resource"]
        if resource["id"] == "mon-obs-7":  # creatinine
            resource["valueQuantity"]["value"] = 4.0
        if resource["id"] == "mon-obs-6":  # neutrophils: normal, only the dose is at issue
            resource["valueQuantity"]["value"] = 2.0
    request["prefetch"]["conditions"]["entry"].append(
        {
            "resource": {
                "resourceType": "Condition",
                "id": "tx-1",
                "subject": {"reference": "Patient/p-mon-1"},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "Z94.0"}]},
            }
        }
    )
    return request


def test_order_without_reason_code_above_every_labelled_dose_is_critical(
    client: TestClient,
) -> None:
    response = client.post(URL, json=_request())
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    dose = [c for c in cards if "without a recorded indication" in c.get("detail", "")]
    assert dose, [c["summary"] for c in cards]
    assert dose[0]["indicator"] == "critical"
    assert "450 mg every 2 days" in dose[0]["detail"]
    for card in cards:
        assert not card["summary"].lower().startswith("continue"), card["summary"]
