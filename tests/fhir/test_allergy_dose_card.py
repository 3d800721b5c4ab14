"""review12 S2 (repro test_r30_allergy_dropped.py, end to end): a recorded allergy whose text
names the brand (Valcyte, the VALCYTE label's title) or both ganciclovir and valganciclovir was
dropped and the CDS dose-check offered a valganciclovir dose; the intolerance bars the drug
(VALCYTE label: contraindicated after hypersensitivity to valganciclovir or ganciclovir)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.fhir.test_allergies import _dose_request, allergy


@pytest.mark.parametrize(
    "text", ["Valcyte", "ganciclovir and valganciclovir", "valganciclovir", "Cymevene"]
)
def test_no_dose_is_offered_despite_the_allergy(client: TestClient, text: str) -> None:
    request = _dose_request([allergy({"text": text}, patient="Patient/p-dose-1")])
    cards = client.post("/cds-services/cmv-antiviral-dose-check", json=request).json()["cards"]
    dosed = [
        a["resource"]["dosageInstruction"]
        for c in cards
        for s in c.get("suggestions") or []
        for a in s.get("actions") or []
        if a.get("resource", {}).get("dosageInstruction")
    ]
    assert not dosed, f"{text!r}: a valganciclovir dose is offered despite the recorded allergy"
