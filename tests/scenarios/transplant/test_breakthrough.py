"""Breakthrough DNAemia during SOT prophylaxis (transplant-hiv.md §7.3 T8 → T6, §7.5 T20/T22), and
asymptomatic DNAemia outside a pre-emptive protocol with no threshold set (T8).

Baseline: the 54-year-old kidney D+/R− recipient of test_sot.py (80 kg, creatinine 0.9 mg/dL:
Cockcroft-Gault 106 mL/min, full dose), transplanted 2026-03-01, on valganciclovir prophylaxis
900 mg daily since 2026-03-06, assessed 2026-05-20 (day 80). The site threshold is 1,000 IU/mL.
Exposure to 2026-05-20 inclusive: from 2026-03-06 26 + 30 + 20 = 76 days; from 2026-04-09
22 + 20 = 42 days; from 2026-04-10 41 days.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmvcds.knowledge import Knowledge
from transplant.helpers import alerts, decision, events, outcomes, regimens, run, with_
from transplant.test_sot import KIDNEY, creatinine, transplant


def load(day: str, value: float) -> dict[str, Any]:
    return {"date": day, "code": "cmv_dna", "specimen": "plasma", "value": value, "unit": "IU/mL"}


def on_prophylaxis(
    *loads: dict[str, Any],
    start: str = "2026-03-06",
    drug: str = "valganciclovir",
    dose_mg: int = 900,
    **parts: Any,
) -> dict[str, Any]:
    return with_(
        KIDNEY,
        assessed_on="2026-05-20",
        observations=[*creatinine(0.9), *loads],
        therapy=[
            {
                "drug": drug,
                "dose_mg": dose_mg,
                "every_h": 24,
                "route": "oral",
                "start": start,
                "indication": "prophylaxis",
            }
        ],
        **parts,
    )


def shape(regimen: dict[str, Any]) -> tuple[Any, ...]:
    return (regimen["drug"], regimen["indication"], regimen["dose_mg"], regimen["every_h"])


def messages(document: dict[str, Any], code: str) -> list[str]:
    return [a["message"] for a in document["alerts"] if a["code"] == code]


def test_breakthrough_below_threshold_continues_prophylaxis_and_repeats_the_load(
    knowledge: Knowledge,
) -> None:
    doc = run(knowledge, on_prophylaxis(load("2026-05-19", 500)))
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "recommended",
        "preemptive-therapy": "not_indicated",
    }
    assert [(r["drug"], r["indication"]) for r in regimens(doc)] == [
        ("valganciclovir", "prophylaxis")
    ]
    pet = decision(doc, "preemptive-therapy")
    assert "below the site's threshold (1000 IU/mL)" in pet["reasons"][0]
    assert "repeat the viral load in 7 days" in " ".join(pet["reasons"])
    assert "2026-05-27" in events(doc, "viral-load")
    [message] = messages(doc, "check-dosing-adherence")
    assert message.startswith("Breakthrough CMV DNAemia on valganciclovir prophylaxis (500 IU/mL")
    assert "below the dosing engine's target" not in message
    assert "T20" in decision(doc, "antiviral-prophylaxis")["rules"]
    assert "resistance-genotyping" not in outcomes(doc)  # a single load: not rising


def test_breakthrough_on_an_underdose_says_so(knowledge: Knowledge) -> None:
    # 450 mg daily at CrCl 106 mL/min: the dosing engine's prophylaxis dose is 900 mg daily
    doc = run(knowledge, on_prophylaxis(load("2026-05-19", 500), dose_mg=450))
    [message] = messages(doc, "check-dosing-adherence")
    assert "the prescribed dose is below the dosing engine's target" in message


@pytest.mark.parametrize(("value", "started"), [(1000, True), (999, False)])
def test_breakthrough_at_threshold_starts_treatment_dose(
    knowledge: Knowledge, value: int, started: bool
) -> None:
    doc = run(knowledge, on_prophylaxis(load("2026-05-19", value)))
    if started:
        assert outcomes(doc) == {
            "antiviral-prophylaxis": "not_indicated",
            "preemptive-therapy": "recommended",
        }
        assert [shape(r) for r in regimens(doc)] == [("valganciclovir", "preemptive", 900, 12)]
        assert "replaces prophylaxis" in decision(doc, "antiviral-prophylaxis")["reasons"][-1]
    else:
        assert decision(doc, "preemptive-therapy")["outcome"] == "not_indicated"
        assert [r["indication"] for r in regimens(doc)] == ["prophylaxis"]


def test_breakthrough_with_no_threshold_set_is_specialist_review(knowledge: Knowledge) -> None:
    doc = run(knowledge, on_prophylaxis(load("2026-05-19", 2500)), pet_threshold_iu_ml__sot=None)
    # debt23 (ADR 0033 decision 1): the load cannot be classified, so prophylaxis is not simply
    # "recommended" as if the blood were negative: insufficient data naming the threshold
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "insufficient_data",
        "preemptive-therapy": "specialist_review",
    }
    pet = decision(doc, "preemptive-therapy")
    assert "T8" in pet["rules"]
    assert "pet_threshold_iu_ml.sot is not set" in pet["reasons"][0]
    assert "setting:pet_threshold_iu_ml.sot" in [m["item"] for m in doc["missing"]]


@pytest.mark.parametrize(
    ("start", "days", "outcome"),
    [
        ("2026-03-06", 76, "recommended"),
        ("2026-04-09", 42, "recommended"),
        ("2026-04-10", 41, "specialist_review"),
    ],
)
def test_rising_breakthrough_genotyping_after_six_weeks(
    knowledge: Knowledge, start: str, days: int, outcome: str
) -> None:
    # 400 → 800 IU/mL (rising, both below the threshold)
    doc = run(
        knowledge, on_prophylaxis(load("2026-05-12", 400), load("2026-05-19", 800), start=start)
    )
    d = decision(doc, "resistance-genotyping")
    assert d["outcome"] == outcome
    assert f"{days} days of cumulative (val)ganciclovir exposure" in d["reasons"][0]
    assert (
        "rising breakthrough DNAemia on valganciclovir prophylaxis (plasma IU/mL 400 → 800)"
        in (d["reasons"][0])
    )
    assert d["genes"] == ["UL97", "UL54"]
    if outcome == "recommended":
        assert "suspected-resistance" in alerts(doc)
        assert "2026-05-20" in events(doc, "genotype")
    else:
        assert "uncommon before 42 days" in d["reasons"][-1]


def test_falling_breakthrough_is_no_genotyping(knowledge: Knowledge) -> None:
    doc = run(knowledge, on_prophylaxis(load("2026-05-12", 800), load("2026-05-19", 400)))
    assert "resistance-genotyping" not in outcomes(doc)
    assert "check-dosing-adherence" in alerts(doc)


def test_load_on_the_first_day_of_prophylaxis_is_not_a_breakthrough(
    knowledge: Knowledge,
) -> None:
    doc = run(knowledge, on_prophylaxis(load("2026-03-06", 500)))
    assert "check-dosing-adherence" not in alerts(doc)
    assert decision(doc, "preemptive-therapy")["rules"] == ["T3"]


@pytest.mark.parametrize(
    ("start", "days", "outcome"),
    [("2026-03-06", 76, "recommended"), ("2026-05-10", 11, "specialist_review")],
)
def test_letermovir_breakthrough_above_threshold_genotypes_ul56(
    knowledge: Knowledge, start: str, days: int, outcome: str
) -> None:
    raw = on_prophylaxis(load("2026-05-19", 1500), drug="letermovir", dose_mg=480, start=start)
    doc = run(knowledge, raw, kidney_dpos_rneg_drug="letermovir")
    assert outcomes(doc)["preemptive-therapy"] == "recommended"
    assert [r["drug"] for r in regimens(doc)] == ["valganciclovir"]
    d = decision(doc, "resistance-genotyping")
    assert d["outcome"] == outcome
    assert f"{days} days of cumulative letermovir exposure" in d["reasons"][0]
    assert d["genes"] == ["UL56", "UL89", "UL51"]


def test_letermovir_breakthrough_below_threshold_no_genotyping(knowledge: Knowledge) -> None:
    raw = on_prophylaxis(load("2026-05-19", 900), drug="letermovir", dose_mg=480)
    doc = run(knowledge, raw, kidney_dpos_rneg_drug="letermovir")
    assert "resistance-genotyping" not in outcomes(doc)
    assert outcomes(doc)["antiviral-prophylaxis"] == "recommended"


# --- T8: asymptomatic DNAemia outside a pre-emptive protocol ----------------------------------------


def after_rpos_prophylaxis(value: float) -> dict[str, Any]:
    # R+ kidney, prophylaxis through day 100 (2026-06-09); DNAemia on 2026-06-30, assessed 2026-07-01
    return with_(
        KIDNEY,
        assessed_on="2026-07-01",
        transplant=transplant(recipient_cmv_igg="positive"),
        observations=[*creatinine(0.9), load("2026-06-30", value)],
    )


def test_after_prophylaxis_dnaemia_without_threshold_is_specialist_review(
    knowledge: Knowledge,
) -> None:
    doc = run(knowledge, after_rpos_prophylaxis(5000), pet_threshold_iu_ml__sot=None)
    pet = decision(doc, "preemptive-therapy")
    assert pet["outcome"] == "specialist_review"
    assert "T8" in pet["rules"]
    assert "outside a pre-emptive protocol" in pet["reasons"][0]
    assert "setting:pet_threshold_iu_ml.sot" in [m["item"] for m in doc["missing"]]


def test_after_prophylaxis_dnaemia_with_threshold_follows_t6(knowledge: Knowledge) -> None:
    doc = run(knowledge, after_rpos_prophylaxis(5000))
    assert decision(doc, "preemptive-therapy")["outcome"] == "recommended"
    assert [(r["drug"], r["indication"]) for r in regimens(doc)] == [
        ("valganciclovir", "preemptive")
    ]


def test_on_a_preemptive_protocol_an_unset_threshold_stays_insufficient_data(
    knowledge: Knowledge,
) -> None:
    raw = after_rpos_prophylaxis(5000)
    doc = run(
        knowledge, raw, sot_rplus_strategy__kidney="preemptive", pet_threshold_iu_ml__sot=None
    )
    assert decision(doc, "preemptive-therapy")["outcome"] == "insufficient_data"


@given(
    st.lists(st.integers(min_value=50, max_value=5_000_000), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=5_000_000),
)
@settings(max_examples=30, deadline=None)
def test_a_new_lowest_load_on_prophylaxis_never_creates_a_resistance_alert(
    values: list[int], new: int
) -> None:
    from cmvcds.knowledge import load_knowledge

    knowledge = load_knowledge()
    days = [(date(2026, 3, 13) + timedelta(days=7 * i)).isoformat() for i in range(len(values) + 1)]
    loads = [load(d, v) for d, v in zip(days, values, strict=False)]
    raw = on_prophylaxis(*loads, load(days[-1], min(new, *values)))
    raw["assessed_on"] = days[-1]
    doc = run(knowledge, raw)
    assert "suspected-resistance" not in alerts(doc)
    assert "resistance-genotyping" not in outcomes(doc)
