"""Vignettes: HIV CMV retinitis with a running induction of a drug other than valganciclovir
(debt22: a running cidofovir induction was answered "valganciclovir 900 mg twice daily since the
cidofovir start").

Sources: VISTIDE (cidofovir) US label, Dosage and administration: induction 5 mg/kg once weekly
for two consecutive weeks, maintenance 5 mg/kg once every 2 weeks, with probenecid and saline;
Contraindications: initiation with a serum creatinine > 1.5 mg/dL, a calculated CrCl ≤ 55 mL/min
or urine protein ≥ 100 mg/dL (≥ 2+). FOSCAVIR US label: induction 90 mg/kg every 12 hours or
60 mg/kg every 8 hours for 2–3 weeks. US HIV OI guideline (CMV chapter): induction 14–21 days
(valganciclovir, ganciclovir; the site's length), cidofovir and foscarnet are alternatives.

Baseline: a 44-year-old man of 70 kg on ART since 2026-03-01, active zone-2 retinitis not
sight-threatening, CD4 70, creatinine 0.8 mg/dL and no proteinuria on 2026-03-30, assessed
2026-04-01. Cockcroft-Gault: (140 − 44) × 70 / (72 × 0.8) = 116.7 mL/min (> 55).
Cidofovir 5 mg/kg × 70 kg = 350 mg.
"""

from __future__ import annotations

from typing import Any

import pytest
from transplant.helpers import decision, regimens, run

from cmvcds.knowledge import Knowledge


def case(
    drug: str, dose_mg: float, every_h: float, start: str, creatinine: float = 0.8
) -> dict[str, Any]:
    return {
        "id": "hiv-running-induction",
        "assessed_on": "2026-04-01",
        "context": "hiv",
        "patient": {"sex": "male", "age_years": 44, "weight_kg": 70, "height_cm": 176},
        "hiv": {
            "on_art": True,
            "art_start": "2026-03-01",
            "retinitis": {"zone": 2, "active": True, "sight_threatening": False},
        },
        "observations": [
            {"date": "2026-03-30", "code": "creatinine", "value": creatinine, "unit": "mg/dL"},
            {"date": "2026-03-30", "code": "urine_protein", "result": "negative"},
            {"date": "2026-03-30", "code": "cd4", "value": 70, "unit": "cells/uL"},
        ],
        "therapy": [
            {"drug": drug, "dose_mg": dose_mg, "every_h": every_h, "route": "iv",
             "start": start, "indication": "induction"},
        ],
    }  # fmt: skip


def shown(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (r["drug"], r["indication"], r["dose_mg"], r.get("dose_mg_per_kg"), r["every_h"],
         str(r["start"]), str(r["stop"]))
        for r in regimens(doc)
    ]  # fmt: skip


def test_a_running_cidofovir_induction_is_continued_as_cidofovir_for_its_two_weeks(
    knowledge: Knowledge,
) -> None:
    """Started 2026-03-25: the label's induction is two weekly doses, to 2026-04-08 (+14 days),
    5 mg/kg = 350 mg every 168 h; never valganciclovir dated from the cidofovir start."""
    doc = run(knowledge, case("cidofovir", 350, 168, "2026-03-25"))
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "recommended"
    assert shown(doc) == [("cidofovir", "induction", 350, 5, 168, "2026-03-25", "2026-04-08")]
    assert "vistide-us-label" in d["citations"]
    assert any("cidofovir induction lasts as its label says (14 days)" in r for r in d["reasons"])


@pytest.mark.parametrize(
    ("creatinine", "dosed"),
    [
        pytest.param(1.5, True, id="creatinine-1.5-allowed"),
        pytest.param(1.6, False, id="creatinine-1.6-contraindicated"),
    ],
)
def test_cidofovir_label_creatinine_bound_applies_to_the_running_induction(
    knowledge: Knowledge, creatinine: float, dosed: bool
) -> None:
    """Label: contraindicated with creatinine > 1.5 mg/dL (1.5 itself is allowed; CrCl at 1.5:
    (140 − 44) × 70 / (72 × 1.5) = 62.2 mL/min, above 55). Never replaced by valganciclovir
    dated from the cidofovir start."""
    doc = run(knowledge, case("cidofovir", 350, 168, "2026-03-25", creatinine))
    drugs = {r["drug"] for r in regimens(doc)}
    assert "valganciclovir" not in drugs or all(
        str(r["start"]) == "2026-04-01" for r in regimens(doc, "valganciclovir")
    )
    if dosed:
        assert shown(doc) == [("cidofovir", "induction", 350, 5, 168, "2026-03-25", "2026-04-08")]
    else:
        assert "cidofovir" not in drugs
        assert "renal-exclusion" in [a["code"] for a in doc["alerts"]]


def test_an_overrun_cidofovir_induction_steps_down_to_cidofovir_maintenance(
    knowledge: Knowledge,
) -> None:
    """Started 2026-03-01, planned to 2026-03-15 (two weekly doses): on 2026-04-01 it is
    overdue; the label's next phase is 5 mg/kg every 2 weeks (336 h), from today."""
    doc = run(knowledge, case("cidofovir", 350, 168, "2026-03-01"))
    assert shown(doc) == [("cidofovir", "maintenance", 350, 5, 336, "2026-04-01", "None")]
    assert "therapy-beyond-evidence" in [a["code"] for a in doc["alerts"]]


def test_a_running_foscarnet_induction_is_continued_as_foscarnet(knowledge: Knowledge) -> None:
    """Foscarnet 60 mg/kg every 8 h (4200 mg for 70 kg) since 2026-03-25: continued as foscarnet
    to the site's induction length, never valganciclovir dated from its start."""
    doc = run(knowledge, case("foscarnet", 4200, 8, "2026-03-25"))
    got = shown(doc)
    assert [g[:5] for g in got] == [("foscarnet", "induction", 4200, 60, 8)]
    assert got[0][5] == "2026-03-25"


def test_a_running_valganciclovir_induction_is_still_dated_from_its_start(
    knowledge: Knowledge,
) -> None:
    """The preferred drug itself: unchanged (900 mg twice daily since its start; CrCl ≥ 60)."""
    doc = run(knowledge, case("valganciclovir", 900, 12, "2026-03-25"))
    got = shown(doc)
    assert [g[:5] for g in got] == [("valganciclovir", "induction", 900, None, 12)]
    assert got[0][5] == "2026-03-25"
