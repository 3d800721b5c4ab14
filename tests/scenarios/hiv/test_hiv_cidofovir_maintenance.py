"""Vignettes: HIV CMV retinitis on cidofovir maintenance, the creatinine rising (rule H5).

Sources: VISTIDE (cidofovir) US label, Dosage and administration: maintenance 5 mg/kg every 2
weeks; "the maintenance dose must be reduced from 5 mg/kg to 3 mg/kg for an increase in serum
creatinine of 0.3-0.4 mg/dL above baseline"; discontinued for an increase of >= 0.5 mg/dL or
>= 3+ proteinuria. US HIV OI guideline (CMV chapter): maintenance continues until the stop
criteria are met; valganciclovir 900 mg once daily is the preferred maintenance drug, cidofovir an
alternative.

Baseline (outside vignette h08): a 44-year-old man of 70 kg on ART since 2026-03-01, inactive
zone-2 retinitis, cidofovir induction 350 mg weekly from 2026-03-23, maintenance 350 mg every 2
weeks from 2026-04-06; creatinine 0.8 mg/dL on 2026-03-20 (baseline), CD4 70 (< 100: maintenance
continues), assessed 2026-06-01. One change: the creatinine on 2026-05-31.
Cockcroft-Gault at 1.3 mg/dL: (140 - 44) × 70 / (72 × 1.3) = 71.8 mL/min -> valganciclovir
900 mg once daily (Valcyte band >= 60).
"""

from __future__ import annotations

from typing import Any

import pytest
from transplant.helpers import decision, regimens, run

from cmvcds.knowledge import Knowledge


def on_cidofovir(creatinine: float) -> dict[str, Any]:
    return {
        "id": "hiv-cidofovir",
        "assessed_on": "2026-06-01",
        "context": "hiv",
        "patient": {"sex": "male", "age_years": 44, "weight_kg": 70, "height_cm": 176},
        "hiv": {
            "on_art": True,
            "art_start": "2026-03-01",
            "retinitis": {"zone": 2, "active": False, "sight_threatening": False},
        },
        "observations": [
            {"date": "2026-03-20", "code": "creatinine", "value": 0.8, "unit": "mg/dL"},
            {"date": "2026-05-31", "code": "creatinine", "value": creatinine, "unit": "mg/dL"},
            {"date": "2026-05-31", "code": "urine_protein", "result": "negative"},
            {"date": "2026-05-31", "code": "cd4", "value": 70, "unit": "cells/uL"},
        ],
        "therapy": [
            {"drug": "cidofovir", "dose_mg": 350, "every_h": 168, "route": "iv",
             "start": "2026-03-23", "stop": "2026-04-05", "indication": "induction"},
            {"drug": "cidofovir", "dose_mg": 350, "every_h": 336, "route": "iv",
             "start": "2026-04-06", "indication": "maintenance"},
        ],
    }  # fmt: skip


def answer(knowledge: Knowledge, creatinine: float) -> tuple[str, list[tuple[Any, ...]]]:
    doc = run(knowledge, on_cidofovir(creatinine))
    shown = [
        (r["drug"], r["dose_mg"], r.get("dose_mg_per_kg"), r["every_h"], r["start"])
        for r in regimens(doc)
    ]
    return decision(doc, "antiviral-treatment")["outcome"], shown


CONTINUE_5 = ("recommended", [("cidofovir", 350, 5, 336, "2026-04-06")])
REDUCE_3 = ("recommended", [("cidofovir", 210, 3, 336, "2026-04-06")])
SWITCH = ("recommended", [("valganciclovir", 900, None, 24, "2026-06-01")])


@pytest.mark.parametrize(
    ("creatinine", "want"),
    [
        pytest.param(0.8, CONTINUE_5, id="no-rise"),
        pytest.param(1.0, CONTINUE_5, id="rise-0.2"),
        pytest.param(1.1, REDUCE_3, id="rise-0.3-reduce"),
        pytest.param(1.2, REDUCE_3, id="rise-0.4-reduce"),
        pytest.param(1.3, SWITCH, id="rise-0.5-discontinue"),
    ],
)
def test_cidofovir_maintenance_by_creatinine_rise(
    knowledge: Knowledge, creatinine: float, want: tuple[str, list[tuple[Any, ...]]]
) -> None:
    assert answer(knowledge, creatinine) == want


def test_reduction_is_explained_and_cited(knowledge: Knowledge) -> None:
    doc = run(knowledge, on_cidofovir(1.2))
    d = decision(doc, "antiviral-treatment")
    assert "vistide-us-label" in d["citations"]
    assert any(r.endswith("Now 210 mg (3 mg/kg × 70 kg)") for r in d["reasons"])
    assert any(
        r.startswith("continue the maintenance drug in force (cidofovir") for r in d["reasons"]
    )
    # the generic "re-dose for the current renal function" alert does not contradict the label
    assert not any("re-dose" in a["message"] for a in doc["alerts"])


def test_discontinuation_names_the_label_rule(knowledge: Knowledge) -> None:
    doc = run(knowledge, on_cidofovir(1.3))
    d = decision(doc, "antiviral-treatment")
    assert any("discontinue cidofovir" in r and "valganciclovir" in r for r in d["reasons"])
    assert "renal-exclusion" in [a["code"] for a in doc["alerts"]]
