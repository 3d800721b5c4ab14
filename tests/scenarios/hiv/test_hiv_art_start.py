"""``hiv.art_start`` is read, not dropped (issue 14 item 2): a start date on or before the
assessment means the patient is on ART when ``on_art`` is not stated, and the ART duration is shown.

Source: US HIV OI guideline (CMV): start ART within about 2 weeks of anti-CMV therapy — the
``start-art`` alert fires only for a patient not on ART. Baseline: examples/hiv-retinitis.yaml
(CD4 30, sight-threatening zone 1 retinitis, ``on_art: false``), assessed 2026-03-10.
"""

from __future__ import annotations

from typing import Any

from transplant.helpers import alerts, run

from cmvcds.knowledge import Knowledge

BASE: dict[str, Any] = {
    "id": "hiv-art",
    "assessed_on": "2026-03-10",
    "context": "hiv",
    "patient": {
        "sex": "male",
        "age_years": 38,
        "weight_kg": 70,
        "height_cm": 178,
        "can_take_oral": True,
    },
    "hiv": {"on_art": False, "retinitis": {"zone": 1, "active": True, "sight_threatening": True}},
    "observations": [
        {"date": "2026-03-09", "code": "creatinine", "value": 0.9, "unit": "mg/dL"},
        {"date": "2026-03-09", "code": "cd4", "value": 30, "unit": "cells/uL"},
    ],
}


def _with_hiv(**hiv: Any) -> dict[str, Any]:
    retinitis = BASE["hiv"]["retinitis"]
    return {**BASE, "hiv": {"retinitis": retinitis, **hiv}}


def test_not_on_art_gets_start_art(knowledge: Knowledge) -> None:
    doc = run(knowledge, BASE)
    assert "start-art" in alerts(doc)
    assert "art" not in doc["findings"]


def test_art_start_without_on_art_means_on_art(knowledge: Knowledge) -> None:
    doc = run(knowledge, _with_hiv(art_start="2026-02-24"))
    assert "start-art" not in alerts(doc)
    assert doc["findings"]["art"] == {"since": "2026-02-24", "days": 14}


def test_on_art_unknown_still_asks_to_start(knowledge: Knowledge) -> None:
    doc = run(knowledge, _with_hiv())
    assert "start-art" in alerts(doc)
