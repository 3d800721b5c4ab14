"""CDS therapy monitor: a MedicationRequest without ``reasonCode`` is still dose-checked (review10).

The golden therapy-monitor request (valganciclovir 900 mg twice daily, no reasonCode: the
indication is unknown) for a kidney recipient (ICD-10 Z94.0) with creatinine 4.0 mg/dL and a
normal neutrophil count. Woman of 56 years, 68 kg: Cockcroft–Gault CrCl = 84 × 68 × 0.85 /
(72 × 4.0) = 16.9 mL/min, VALCYTE band 10–24 mL/min, whose highest labelled dose is induction
450 mg every 2 days (225 mg/day; valcyte-us-label). 1800 mg/day is 8× that: critical.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.cdshooks.kidney_monitor import URL, kidney_monitor_request


def test_order_without_reason_code_above_every_labelled_dose_is_critical(
    client: TestClient,
) -> None:
    response = client.post(URL, json=kidney_monitor_request(4.0))
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    dose = [c for c in cards if "without a recorded indication" in c.get("detail", "")]
    assert dose, [c["summary"] for c in cards]
    assert dose[0]["indicator"] == "critical"
    assert "450 mg every 2 days" in dose[0]["detail"]
    for card in cards:
        assert not card["summary"].lower().startswith("continue"), card["summary"]
