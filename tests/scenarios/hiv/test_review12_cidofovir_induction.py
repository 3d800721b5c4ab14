"""HIV CMV retinitis on a running cidofovir induction (review12 W1, W2; repro r10, r12).

Source: VISTIDE (cidofovir) US label, Dosage and administration: induction 5 mg/kg once weekly
for 2 consecutive weeks, maintenance 5 mg/kg once every 2 weeks; discontinued for a serum
creatinine rise of >= 0.5 mg/dL above baseline. Started 2026-03-25: induction doses on 03-25 and
04-01 (the pack's duration_days 14: day 14, 04-08, would be a third weekly dose), first
maintenance dose 2 weeks after the last induction dose: 04-15.
"""

from __future__ import annotations

from typing import Any

import pytest
from transplant.helpers import alerts, decision, regimens, run

from cmvcds.knowledge import Knowledge


def case(on: str, observations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": "review12-r10",
        "assessed_on": on,
        "context": "hiv",
        "patient": {"sex": "male", "age_years": 44, "weight_kg": 70, "height_cm": 176},
        "hiv": {
            "on_art": True,
            "art_start": "2026-03-01",
            "retinitis": {"zone": 2, "active": True, "sight_threatening": False},
        },
        "observations": observations or [
            {"date": "2026-03-30", "code": "creatinine", "value": 0.8, "unit": "mg/dL"},
            {"date": "2026-03-30", "code": "urine_protein", "result": "negative"},
            {"date": "2026-03-30", "code": "cd4", "value": 70, "unit": "cells/uL"},
        ],
        "therapy": [
            {"drug": "cidofovir", "dose_mg": 350, "every_h": 168, "route": "iv",
             "start": "2026-03-25", "indication": "induction"},
        ],
    }  # fmt: skip


def _shown(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(r["drug"], r["indication"], r["every_h"], r["start"]) for r in regimens(doc)]


def test_day_13_is_still_induction(knowledge: Knowledge) -> None:
    doc = run(knowledge, case("2026-04-07"))
    assert _shown(doc) == [("cidofovir", "induction", 168, "2026-03-25")]


@pytest.mark.parametrize("on", ["2026-04-08", "2026-04-09", "2026-04-15"])
def test_after_two_weekly_doses_maintenance_starts_two_weeks_after_the_last(
    knowledge: Knowledge, on: str
) -> None:
    """review12 W1: on 04-08 a third weekly dose was given; on 04-09 maintenance from 04-09."""
    doc = run(knowledge, case(on))
    assert decision(doc, "antiviral-treatment")["outcome"] == "recommended"
    assert _shown(doc) == [("cidofovir", "maintenance", 336, "2026-04-15")]
    reasons = decision(doc, "antiviral-treatment")["reasons"]
    assert any("its last dose on 2026-04-01" in r for r in reasons)


def test_past_the_first_maintenance_date_it_starts_today(knowledge: Knowledge) -> None:
    doc = run(knowledge, case("2026-04-20"))
    assert _shown(doc) == [("cidofovir", "maintenance", 336, "2026-04-20")]
    assert "therapy-beyond-evidence" in alerts(doc)


def _creatinines(first: float, second: float) -> list[dict[str, Any]]:
    """No creatinine before the 03-25 start: the earliest on treatment is 03-30 (review12 r12)."""
    return [
        {"date": "2026-03-30", "code": "creatinine", "value": first, "unit": "mg/dL"},
        {"date": "2026-03-31", "code": "creatinine", "value": second, "unit": "mg/dL"},
        {"date": "2026-03-31", "code": "urine_protein", "result": "negative"},
        {"date": "2026-03-30", "code": "cd4", "value": 70, "unit": "cells/uL"},
    ]


@pytest.mark.parametrize(("second", "discontinued"), [(1.3, True), (1.4, True), (1.2, False)])
def test_a_rise_without_baseline_is_measured_from_the_earliest_on_treatment(
    knowledge: Knowledge, second: float, discontinued: bool
) -> None:
    """review12 W2: 0.8 → 1.4 mg/dL on cidofovir with no pre-treatment creatinine went on at
    5 mg/kg with no alert; the VISTIDE ≥ 0.5 mg/dL rule is applied from the earliest value on
    treatment (0.5 fires, 0.4 reduces instead), and the missing baseline is said."""
    doc = run(knowledge, case("2026-04-01", _creatinines(0.8, second)))
    critical = [a for a in doc["alerts"] if a["code"] == "renal-exclusion"]
    assert bool(critical) is discontinued
    if discontinued:
        assert "no baseline before the start on 2026-03-25" in critical[0]["message"]
        assert [r["drug"] for r in regimens(doc)] == ["valganciclovir"]
    else:
        assert [r["dose_mg_per_kg"] for r in regimens(doc)] == [3]
    assert "creatinine:baseline:cidofovir" in [m["item"] for m in doc["missing"]]
