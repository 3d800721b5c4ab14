"""Refractory and resistant CMV after SOT (T20–T24): the monitoring engine's refractory call and
genotyping decision, then the options ranked by the resistance engine's per-drug levels.

Baseline: the 60-year-old R+ kidney recipient of test_treatment (70 kg, creatinine 1.0 mg/dL,
CrCl 77.8 mL/min) on oral valganciclovir induction since 2026-06-01 for moderate CMV syndrome;
plasma viral load 10,000 IU/mL on 2026-05-30 (baseline), 200,000 IU/mL on 2026-06-19 (day 18):
log10(200,000 / 10,000) = 1.30 > 1.0 → refractory CMV infection. Valganciclovir prophylaxis
2026-01-12 to 2026-04-20 (99 days) makes the cumulative exposure ≥ 42 days.
"""

from __future__ import annotations

from typing import Any

from cmvcds.knowledge import Knowledge
from transplant.helpers import alerts, decision, outcomes, regimens, run, with_

BASE: dict[str, Any] = {
    "id": "sot-refractory",
    "assessed_on": "2026-06-19",
    "context": "transplant",
    "patient": {
        "sex": "male",
        "age_years": 60,
        "weight_kg": 70,
        "height_cm": 175,
        "can_take_oral": True,
    },
    "transplant": {
        "organ": "kidney",
        "date": "2026-01-10",
        "donor_cmv_igg": "positive",
        "recipient_cmv_igg": "positive",
        "co_medications": ["tacrolimus"],
    },
    "presentation": {"disease": "cmv_syndrome", "severity": "moderate", "course": "stable"},
    "observations": [
        {"date": "2026-05-30", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
        {"date": "2026-06-18", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
        {
            "date": "2026-05-30",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 10000,
            "unit": "IU/mL",
        },
        {
            "date": "2026-06-19",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 200000,
            "unit": "IU/mL",
        },
    ],
    "therapy": [
        {
            "drug": "valganciclovir",
            "dose_mg": 900,
            "every_h": 24,
            "route": "oral",
            "start": "2026-01-12",
            "stop": "2026-04-20",
            "indication": "prophylaxis",
        },
        {
            "drug": "valganciclovir",
            "dose_mg": 900,
            "every_h": 12,
            "route": "oral",
            "start": "2026-06-01",
            "indication": "induction",
        },
    ],
}


def genotype(*mutations: str, genes: tuple[str, ...] = ("UL97", "UL54")) -> list[dict[str, Any]]:
    return [{"date": "2026-06-19", "mutations": list(mutations), "genes_tested": list(genes)}]


def test_refractory_after_two_weeks_options_pending_genotype(knowledge: Knowledge) -> None:
    doc = run(knowledge, BASE)
    assert "refractory-cmv" in alerts(doc)
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("specialist_review", ["T23"])
    assert any("maribavir" in r.lower() for r in d["reasons"]) and any(
        "foscarnet" in r.lower() for r in d["reasons"]
    )
    assert [a["severity"] for a in doc["alerts"] if a["code"] == "reduce-immunosuppression"] == [
        "warning"
    ]


def test_six_weeks_exposure_and_rise_genotyping(knowledge: Knowledge) -> None:
    doc = run(knowledge, BASE)
    g = decision(doc, "resistance-genotyping")
    assert g["outcome"] == "recommended"
    assert {"UL97", "UL54"} <= set(g["genes"])


def test_short_exposure_genotyping_not_yet(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, therapy=BASE["therapy"][1:]))
    assert decision(doc, "resistance-genotyping")["outcome"] != "recommended"


def test_rise_before_day_14_is_not_refractory(knowledge: Knowledge) -> None:
    raw = with_(BASE, assessed_on="2026-06-10")
    raw["observations"] = [
        BASE["observations"][0],
        BASE["observations"][2],
        {
            "date": "2026-06-10",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 200000,
            "unit": "IU/mL",
        },
    ]
    raw["presentation"] = {"disease": "cmv_syndrome", "severity": "moderate"}
    doc = run(knowledge, raw)
    assert "refractory-cmv" not in alerts(doc)
    assert decision(doc, "antiviral-treatment")["rules"] == ["T10"]


def test_ul97_low_level_high_dose_ganciclovir(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, genotype=genotype("UL97:C592G")))
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("recommended", ["T23", "T24"])
    assert "ganciclovir low-level" in " ".join(d["reasons"])
    [gcv] = regimens(doc)
    assert (gcv["drug"], gcv["indication"], gcv["route"]) == ("ganciclovir", "refractory", "iv")
    assert (gcv["dose_mg"], gcv["every_h"]) == (
        700,
        12,
    )  # 10 mg/kg × 70 kg (dosing engine's high-dose row)
    assert "marrow-suppression" in alerts(doc)


def test_ul97_high_level_maribavir(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, genotype=genotype("UL97:M460V")))
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "recommended"
    [mbv] = regimens(doc)
    assert (mbv["drug"], mbv["dose_mg"], mbv["every_h"]) == ("maribavir", 400, 12)
    assert any(
        "never be combined" in a["message"]
        for a in doc["alerts"]
        if a["code"] == "drug-interaction"
    )


def test_ul97_high_level_retinitis_foscarnet_not_maribavir(knowledge: Knowledge) -> None:
    raw = with_(
        BASE,
        genotype=genotype("UL97:M460V"),
        presentation={
            "disease": "tissue_invasive",
            "organs": ["retinitis"],
            "severity": "moderate",
            "course": "stable",
        },
    )
    doc = run(knowledge, raw)
    assert [r["drug"] for r in regimens(doc)] == ["foscarnet"]
    assert "poor-cns-ocular-penetration" in alerts(doc)


def test_ul54_cross_resistance_excludes_cidofovir(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, genotype=genotype("UL97:M460V", "UL54:A987G")))
    d = decision(doc, "antiviral-treatment")
    assert any("cidofovir" in r.lower() and "excluded" in r for r in d["reasons"])


def test_foscarnet_resistance_only_standard_ganciclovir(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, genotype=genotype("UL54:V715M")))
    assert outcomes(doc)["antiviral-treatment"] == "recommended"
    [gcv] = regimens(doc)
    assert (gcv["drug"], gcv["dose_mg"], gcv["every_h"]) == ("ganciclovir", 350, 12)


def test_three_resistant_drugs_maribavir_still_given(knowledge: Knowledge) -> None:
    """Ganciclovir, foscarnet and cidofovir resistant (UL97 M460V; UL54 V715M, A987G), maribavir
    susceptible: maribavir is the answer (T24), not salvage."""
    doc = run(knowledge, with_(BASE, genotype=genotype("UL97:M460V", "UL54:V715M", "UL54:A987G")))
    assert outcomes(doc)["antiviral-treatment"] == "recommended"
    [mbv] = regimens(doc)
    assert (mbv["drug"], mbv["dose_mg"], mbv["every_h"]) == ("maribavir", 400, 12)


def test_three_resistant_drugs_foscarnet_still_given(knowledge: Knowledge) -> None:
    """Ganciclovir, cidofovir and maribavir resistant (UL97 M460V, T409M; UL54 A987G), foscarnet
    susceptible: foscarnet, not salvage."""
    doc = run(knowledge, with_(BASE, genotype=genotype("UL97:M460V", "UL97:T409M", "UL54:A987G")))
    assert outcomes(doc)["antiviral-treatment"] == "recommended"
    assert [r["drug"] for r in regimens(doc)] == ["foscarnet"]


def test_all_four_resistant_is_salvage_by_a_specialist(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, genotype=genotype("UL54:V715M", "UL54:A987G", "UL97:T409M")))
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "specialist_review"
    assert regimens(doc) == []
    assert any("no susceptible drug" in r for r in d["reasons"])


def test_disease_during_prophylaxis_is_not_called_refractory(knowledge: Knowledge) -> None:
    raw = with_(BASE, assessed_on="2026-03-20", therapy=[{**BASE["therapy"][0], "stop": None}])
    raw["observations"] = [
        {"date": "2026-03-19", "code": "creatinine", "value": 1.0, "unit": "mg/dL"}
    ]
    doc = run(knowledge, raw)
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("recommended", ["T8"])
    assert "refractory-cmv" not in alerts(doc) and "probable-refractory-cmv" not in alerts(doc)
    assert decision(doc, "antiviral-prophylaxis")["outcome"] == "not_indicated"
    assert [(r["drug"], r["indication"]) for r in regimens(doc)] == [
        ("valganciclovir", "induction")
    ]


# --- T20 gates: comparable loads and an appropriate dose (review M3) ------------------------------


def test_baseline_plasma_latest_whole_blood_is_assay_mismatch(knowledge: Knowledge) -> None:
    raw = with_(BASE)
    raw["observations"] = [*BASE["observations"][:3], {**BASE["observations"][3]}]
    raw["observations"][3]["specimen"] = "whole_blood"
    doc = run(knowledge, raw)
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "insufficient_data" and d["rules"] == ["T20"]
    assert d["citations"] != []
    assert "assay-mismatch" in alerts(doc)
    assert not {"refractory-cmv", "probable-refractory-cmv"} & alerts(doc)
    assert "cmv_dna" in [m["item"] for m in doc["missing"]]
    assert regimens(doc) == []


def test_underdosed_course_no_refractory_call_no_switch(knowledge: Knowledge) -> None:
    # 450 mg twice daily at CrCl 77.8 mL/min (target 900 mg twice daily): not appropriately dosed
    raw = with_(BASE)
    raw["therapy"] = [BASE["therapy"][0], {**BASE["therapy"][1], "dose_mg": 450}]
    doc = run(knowledge, raw)
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "recommended" and "T23" not in d["rules"]
    assert "check-dosing-adherence" in alerts(doc)
    assert not {"refractory-cmv", "probable-refractory-cmv"} & alerts(doc)
    [vgc] = regimens(doc)
    assert (vgc["drug"], vgc["dose_mg"], vgc["every_h"]) == ("valganciclovir", 900, 12)


# --- resistance report levels and flags (review M4a) ----------------------------------------------


def test_flagged_low_level_ganciclovir_is_never_high_dose(knowledge: Knowledge) -> None:
    # UL97 C592G (low) + UL54 N408D: ganciclovir "low" flagged combined-effect-uncharacterised →
    # read as resistant → maribavir (age 60, 70 kg, no CNS/retinal disease), not high-dose ganciclovir
    doc = run(knowledge, with_(BASE, genotype=genotype("UL97:C592G", "UL54:N408D")))
    assert [r["drug"] for r in regimens(doc)] == ["maribavir"]
    reasons = " ".join(decision(doc, "antiviral-treatment")["reasons"])
    assert "combined-effect-uncharacterised" in reasons
    assert "marrow-suppression" not in alerts(doc)


def test_not_assessed_is_not_unknown_and_unverified_becomes_alerts(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, genotype=genotype("UL97:M460V")))
    reasons = " ".join(decision(doc, "antiviral-treatment")["reasons"])
    assert "letermovir not assessed (gene not sequenced)" in reasons
    assert "letermovir unknown" not in reasons
    assert any(
        a["code"] == "unverified-fact" and "resistance report" in a["message"]
        for a in doc["alerts"]
    )


def test_genotype_reported_no_genes_to_sequence(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, genotype=genotype("UL97:M460V")))
    g = decision(doc, "resistance-genotyping")
    assert g["outcome"] == "not_indicated" and g.get("genes", []) == []


def test_high_dose_ganciclovir_blood_count_wording_matches_weekly_schedule(
    knowledge: Knowledge,
) -> None:
    doc = run(knowledge, with_(BASE, genotype=genotype("UL97:C592G")))
    [marrow] = [a["message"] for a in doc["alerts"] if a["code"] == "marrow-suppression"]
    assert "twice weekly" not in marrow and "at least weekly" in marrow
