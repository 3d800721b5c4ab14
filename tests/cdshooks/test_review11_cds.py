"""CDS therapy monitor: a running course the label excludes is a critical card (review11 S1).

The golden therapy-monitor request (valganciclovir 900 mg twice daily, no reasonCode) for a
kidney recipient (ICD-10 Z94.0) with creatinine 12 mg/dL and a normal neutrophil count. Woman of
56 years, 68 kg: Cockcroft–Gault CrCl = 84 × 68 × 0.85 / (72 × 12) = 5.6 mL/min, below the
VALCYTE band 10–24: "not recommended for CrCl < 10 mL/min or on hemodialysis; use IV
ganciclovir" (US PI §2.5 Table 2, §8.6). Before review11 the course got no dose card at all.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.cdshooks.kidney_monitor import URL, kidney_monitor_request


def test_course_the_label_excludes_is_a_critical_card_naming_iv_ganciclovir(
    client: TestClient,
) -> None:
    response = client.post(URL, json=kidney_monitor_request(12.0))
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    excluded = [c for c in cards if "use IV ganciclovir" in c.get("detail", "")]
    assert excluded, [c["summary"] for c in cards]
    assert excluded[0]["indicator"] == "critical"
    for card in cards:
        assert not card["summary"].lower().startswith("continue"), card["summary"]
