"""The golden therapy-monitor request for a kidney recipient with a chosen creatinine (reviews 10
and 11): valganciclovir 900 mg twice daily without a reasonCode (the indication unknown), a
normal neutrophil count (only the dose is at issue), and a kidney-transplant Condition (ICD-10
Z94.0). Woman of 56 years, 68 kg: Cockcroft–Gault CrCl = 84 × 68 × 0.85 / (72 × creatinine)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

URL = "/cds-services/cmv-therapy-monitor"
FIXTURE = Path(__file__).parent / "fixtures" / "therapy-monitor.request.json"


def kidney_monitor_request(creatinine_mg_dl: float) -> dict[str, Any]:
    """The request with the creatinine (mg/dL) replaced and the transplant Condition added."""
    request: dict[str, Any] = copy.deepcopy(json.loads(FIXTURE.read_text(encoding="utf-8")))
    medication = request["prefetch"]["medications"]["entry"][0]["resource"]
    assert "reasonCode" not in medication and "reasonReference" not in medication
    for entry in request["prefetch"]["observations"]["entry"]:
        resource = entry["resource"]
        if resource["id"] == "mon-obs-7":  # creatinine
            resource["valueQuantity"]["value"] = creatinine_mg_dl
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
