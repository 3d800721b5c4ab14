"""CDS therapy monitor: a running course the label excludes is a critical card (review11 S1).

The golden therapy-monitor request (valganciclovir 900 mg twice daily, no reasonCode) for a
kidney recipient (ICD-10 Z94.0) with creatinine 12 mg/dL and a normal neutrophil count. Woman of
56 years, 68 kg: Cockcroft–Gault CrCl = 84 × 68 × 0.85 / (72 × 12) = 5.6 mL/min, below the
VALCYTE band 10–24: "not recommended for CrCl < 10 mL/min or on hemodialysis; use IV
ganciclovir" (US PI §2.5 Table 2, §8.6). Before review11 the course got no dose card at all.
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
            resource["valueQuantity"]["value"] = 12.0
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


def test_course_the_label_excludes_is_a_critical_card_naming_iv_ganciclovir(
    client: TestClient,
) -> None:
    response = client.post(URL, json=_request())
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    excluded = [c for c in cards if "use IV ganciclovir" in c.get("detail", "")]
    assert excluded, [c["summary"] for c in cards]
    assert excluded[0]["indicator"] == "critical"
    for card in cards:
        assert not card["summary"].lower().startswith("continue"), card["summary"]
