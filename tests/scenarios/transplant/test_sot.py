"""SOT prevention vignettes (transplant-hiv.md §1.2–1.3, T1–T7): one change from a baseline each.

Baseline: a 54-year-old man, 80 kg, kidney D+/R− transplanted on 2026-03-01, assessed on day 5.
Cockcroft-Gault with creatinine 0.9 mg/dL: (140 − 54) × 80 / (72 × 0.9) = 106 mL/min (≥ 60: full
dose); with 1.8 mg/dL: 6880 / 129.6 = 53.1 mL/min (band 40–59: valganciclovir 450 mg daily).
Day 200 after 2026-03-01 is 2026-09-17; day 100 is 2026-06-09; day 84 is 2026-05-24.
"""

from __future__ import annotations

from typing import Any

from cmvcds.knowledge import Knowledge
from transplant.helpers import alerts, decision, events, outcomes, regimens, run, with_

KIDNEY: dict[str, Any] = {
    "id": "sot-kidney",
    "assessed_on": "2026-03-06",
    "context": "transplant",
    "patient": {"sex": "male", "age_years": 54, "weight_kg": 80, "height_cm": 178},
    "transplant": {
        "organ": "kidney",
        "date": "2026-03-01",
        "donor_cmv_igg": "positive",
        "recipient_cmv_igg": "negative",
        "co_medications": ["tacrolimus"],
    },
    "observations": [
        {"date": "2026-03-05", "code": "creatinine", "value": 0.9, "unit": "mg/dL"},
        {"date": "2026-03-05", "code": "anc", "value": 3200, "unit": "cells/uL"},
    ],
}


def transplant(**changes: Any) -> dict[str, Any]:
    return {**KIDNEY["transplant"], **changes}


def creatinine(value: float) -> list[dict[str, Any]]:
    return [
        {"date": "2026-03-05", "code": "creatinine", "value": value, "unit": "mg/dL"},
        {"date": "2026-03-05", "code": "anc", "value": 3200, "unit": "cells/uL"},
    ]


def test_kidney_dpos_rneg_valganciclovir_to_day_200(knowledge: Knowledge) -> None:
    doc = run(knowledge, KIDNEY)
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "recommended",
        "preemptive-therapy": "not_indicated",
    }
    [vgc] = regimens(doc)
    assert (vgc["drug"], vgc["indication"], vgc["dose_mg"], vgc["every_h"]) == (
        "valganciclovir",
        "prophylaxis",
        900,
        24,
    )
    assert (vgc["start"], vgc["stop"]) == ("2026-03-06", "2026-09-17")
    d = decision(doc, "antiviral-prophylaxis")
    assert d["rules"] == ["T1", "T3"] and d["settings_used"] == ["kidney_dpos_rneg_drug"]
    assert {"humar2010-ajt-impact", "limaye2023-jama-letermovir-kidney"} <= set(d["citations"])
    assert doc["settings"] == {"kidney_dpos_rneg_drug": "valganciclovir"}
    # no routine viral load during prophylaxis; blood count and creatinine every 14 days through day 200
    assert events(doc, "viral-load") == []
    assert events(doc, "blood-count")[:3] == ["2026-03-06", "2026-03-20", "2026-04-03"]
    assert events(doc, "blood-count")[-1] == "2026-09-04"


def test_kidney_dpos_rneg_renal_dose(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(KIDNEY, observations=creatinine(1.8)))
    [vgc] = regimens(doc)
    assert (vgc["dose_mg"], vgc["every_h"], vgc["stop"]) == (450, 24, "2026-09-17")


def test_kidney_dpos_rneg_letermovir_by_site_choice(knowledge: Knowledge) -> None:
    doc = run(knowledge, KIDNEY, kidney_dpos_rneg_drug="letermovir")
    assert decision(doc, "antiviral-prophylaxis")["outcome"] == "recommended"
    [let] = regimens(doc)
    assert (let["drug"], let["dose_mg"], let["every_h"], let["stop"]) == (
        "letermovir",
        480,
        24,
        "2026-09-17",
    )
    assert {"hsv-vzv-prophylaxis-needed", "drug-interaction"} <= alerts(doc)
    assert "T4" in decision(doc, "antiviral-prophylaxis")["rules"]


def test_kidney_dpos_rneg_letermovir_with_cyclosporine_240(knowledge: Knowledge) -> None:
    doc = run(
        knowledge,
        with_(KIDNEY, transplant=transplant(co_medications=["cyclosporine"])),
        kidney_dpos_rneg_drug="letermovir",
    )
    [let] = regimens(doc)
    assert (let["drug"], let["dose_mg"]) == ("letermovir", 240)


def test_kidney_dpos_rneg_valganciclovir_intolerance_letermovir(knowledge: Knowledge) -> None:
    patient = {**KIDNEY["patient"], "intolerances": ["valganciclovir"]}
    doc = run(knowledge, with_(KIDNEY, patient=patient))
    assert [r["drug"] for r in regimens(doc)] == ["letermovir"]
    assert decision(doc, "antiviral-prophylaxis")["outcome"] == "recommended"


def test_unset_drug_choice_takes_the_reference_profile(knowledge: Knowledge) -> None:
    # The drug is the only open sub-choice: prophylaxis is certain. Unset by the site, the
    # reference profile's valganciclovir (IMPACT, named first) is used, said and cited; letermovir
    # stays the site's choice (issue 14 item 1: never insufficient_data for the whole decision).
    doc = run(knowledge, KIDNEY, kidney_dpos_rneg_drug=None)
    d = decision(doc, "antiviral-prophylaxis")
    assert d["outcome"] == "recommended"
    assert d["settings_used"] == ["kidney_dpos_rneg_drug"]
    assert d["reference_profile"] == ["kidney_dpos_rneg_drug"]
    assert {"humar2010-ajt-impact", "limaye2023-jama-letermovir-kidney"} <= set(d["citations"])
    assert any("letermovir: site choice" in r for r in d["reasons"])
    assert [(r["drug"], r["dose_mg"], r["every_h"], r["stop"]) for r in regimens(doc)] == [
        ("valganciclovir", 900, 24, "2026-09-17")
    ]
    assert doc["missing"] == []
    [use] = doc["settings_detail"]
    assert (use["name"], use["value"], use["origin"]) == (
        "kidney_dpos_rneg_drug",
        "valganciclovir",
        "reference-profile",
    )


def test_prophylaxis_period_over_late_cmv_risk(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(KIDNEY, assessed_on="2026-09-18"))
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "not_indicated",
        "preemptive-therapy": "not_indicated",
    }
    assert "late-cmv-risk" in alerts(doc)
    assert "2026-09-17 (day 200)" in decision(doc, "antiviral-prophylaxis")["reasons"][0]


def test_last_day_of_prophylaxis_still_recommended(knowledge: Knowledge) -> None:
    course = [
        {
            "drug": "valganciclovir",
            "dose_mg": 900,
            "every_h": 24,
            "route": "oral",
            "start": "2026-03-06",
            "indication": "prophylaxis",
        }
    ]
    doc = run(knowledge, with_(KIDNEY, assessed_on="2026-09-17", therapy=course))
    assert decision(doc, "antiviral-prophylaxis")["outcome"] == "recommended"
    assert regimens(doc, "valganciclovir")[0]["start"] == "2026-03-06"


def test_dneg_rneg_nothing_but_safe_blood(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(KIDNEY, transplant=transplant(donor_cmv_igg="negative")))
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "not_indicated",
        "preemptive-therapy": "not_indicated",
    }
    assert "cmv-safe-blood-products" in alerts(doc)
    assert decision(doc, "antiviral-prophylaxis")["rules"] == ["T1", "T2"]


def test_kidney_rpos_prophylaxis_to_day_100(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(KIDNEY, transplant=transplant(recipient_cmv_igg="positive")))
    [vgc] = regimens(doc)
    assert (vgc["drug"], vgc["stop"]) == ("valganciclovir", "2026-06-09")
    assert decision(doc, "antiviral-prophylaxis")["settings_used"] == ["sot_rplus_strategy.kidney"]


def test_kidney_rpos_preemptive_surveillance_weekly_to_day_84(knowledge: Knowledge) -> None:
    doc = run(
        knowledge,
        with_(KIDNEY, transplant=transplant(recipient_cmv_igg="positive")),
        sot_rplus_strategy__kidney="preemptive",
    )
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "not_indicated",
        "preemptive-therapy": "recommended",
    }
    dates = events(doc, "viral-load")
    assert dates[0] == "2026-03-08" and dates[-1] == "2026-05-24" and len(dates) == 12
    assert regimens(doc) == []
    assert set(decision(doc, "preemptive-therapy")["settings_used"]) >= {
        "pet_surveillance_days_sot",
        "pet_threshold_iu_ml.sot",
    }


def _dnaemia(value: float, unit: str = "IU/mL") -> dict[str, Any]:
    raw = with_(
        KIDNEY, assessed_on="2026-04-01", transplant=transplant(recipient_cmv_igg="positive")
    )
    raw["observations"] = [
        *creatinine(0.9),
        {
            "date": "2026-04-01",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": value,
            "unit": unit,
        },
    ]
    return raw


def test_preemptive_threshold_crossed_starts_valganciclovir(knowledge: Knowledge) -> None:
    doc = run(knowledge, _dnaemia(1500), sot_rplus_strategy__kidney="preemptive")
    assert decision(doc, "preemptive-therapy")["outcome"] == "recommended"
    [vgc] = regimens(doc)
    assert (vgc["drug"], vgc["indication"], vgc["dose_mg"], vgc["every_h"]) == (
        "valganciclovir",
        "preemptive",
        900,
        12,
    )
    assert vgc["stop_rule"].startswith("stop after at least 14 days")
    assert events(doc, "viral-load")[:2] == ["2026-04-01", "2026-04-08"]


def test_preemptive_threshold_boundary(knowledge: Knowledge) -> None:
    at = run(knowledge, _dnaemia(1000), sot_rplus_strategy__kidney="preemptive")
    below = run(knowledge, _dnaemia(999), sot_rplus_strategy__kidney="preemptive")
    assert [r["drug"] for r in regimens(at)] == ["valganciclovir"]
    assert regimens(below) == []
    assert (
        decision(below, "preemptive-therapy")["outcome"] == "recommended"
    )  # surveillance continues
    assert "below the site's threshold" in decision(below, "preemptive-therapy")["reasons"][0]


def test_preemptive_threshold_unset(knowledge: Knowledge) -> None:
    doc = run(
        knowledge,
        _dnaemia(1500),
        sot_rplus_strategy__kidney="preemptive",
        pet_threshold_iu_ml__sot=None,
    )
    assert decision(doc, "preemptive-therapy")["outcome"] == "insufficient_data"
    assert "setting:pet_threshold_iu_ml.sot" in [m["item"] for m in doc["missing"]]


def test_preemptive_copies_cannot_meet_iu_threshold(knowledge: Knowledge) -> None:
    doc = run(knowledge, _dnaemia(5000, "copies/mL"), sot_rplus_strategy__kidney="preemptive")
    assert decision(doc, "preemptive-therapy")["outcome"] == "insufficient_data"
    assert "assay-mismatch" in alerts(doc)


def test_preemptive_stop_after_two_clear_weekly_tests(knowledge: Knowledge) -> None:
    raw = with_(
        KIDNEY, assessed_on="2026-04-25", transplant=transplant(recipient_cmv_igg="positive")
    )
    raw["observations"] = [
        *creatinine(0.9),
        {
            "date": "2026-04-01",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 1500,
            "unit": "IU/mL",
        },
        {"date": "2026-04-17", "code": "cmv_dna", "specimen": "plasma", "result": "not_detected"},
        {"date": "2026-04-24", "code": "cmv_dna", "specimen": "plasma", "result": "not_detected"},
    ]
    raw["therapy"] = [
        {
            "drug": "valganciclovir",
            "dose_mg": 900,
            "every_h": 12,
            "route": "oral",
            "start": "2026-04-02",
            "indication": "preemptive",
        }
    ]
    stop = run(knowledge, raw, sot_rplus_strategy__kidney="preemptive")
    assert decision(stop, "preemptive-therapy")["outcome"] == "not_indicated"
    one_test = run(
        knowledge,
        raw,
        sot_rplus_strategy__kidney="preemptive",
        clearance_consecutive_weekly_tests=1,
    )
    assert decision(one_test, "preemptive-therapy")["outcome"] == "not_indicated"
    raw["observations"] = raw["observations"][:-1]
    raw["assessed_on"] = "2026-04-18"
    go_on = run(knowledge, raw, sot_rplus_strategy__kidney="preemptive")
    assert decision(go_on, "preemptive-therapy")["outcome"] == "recommended"
    assert "2 consecutive weekly" in " ".join(decision(go_on, "preemptive-therapy")["reasons"])
    assert (
        decision(
            run(
                knowledge,
                raw,
                sot_rplus_strategy__kidney="preemptive",
                clearance_consecutive_weekly_tests=1,
            ),
            "preemptive-therapy",
        )["outcome"]
        == "not_indicated"
    )


def test_liver_dpos_rneg_point_inside_range(knowledge: Knowledge) -> None:
    raw = with_(KIDNEY, transplant=transplant(organ="liver"))
    doc = run(knowledge, raw)
    assert regimens(doc)[0]["stop"] == "2026-06-09"
    assert "config-range" in alerts(doc)
    assert doc["settings"]["prophylaxis_days.liver.dpos_rneg"] == 100
    later = run(knowledge, raw, prophylaxis_days__liver__dpos_rneg=200)
    assert regimens(later)[0]["stop"] == "2026-09-17"


def test_liver_dpos_rneg_preemptive_by_site(knowledge: Knowledge) -> None:
    doc = run(
        knowledge,
        with_(KIDNEY, transplant=transplant(organ="liver")),
        liver_dpos_rneg_strategy="preemptive",
    )
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "not_indicated",
        "preemptive-therapy": "recommended",
    }


def test_lung_dpos_rneg_to_day_365_never_preemptive(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(KIDNEY, transplant=transplant(organ="lung")))
    assert regimens(doc)[0]["stop"] == "2027-03-01"


LUNG_RPOS = with_(KIDNEY, transplant=transplant(organ="lung", recipient_cmv_igg="positive"))


def test_lung_rpos_prophylaxis_point_inside_200_to_365(knowledge: Knowledge) -> None:
    # AST 2019: 6–12 months for R+ lung = day 200–365 (I-T1), the site's point; no R+ strategy
    # setting (pre-emptive therapy alone is not an option in lung).
    doc = run(knowledge, LUNG_RPOS)
    assert regimens(doc)[0]["stop"] == "2026-09-17"
    assert "config-range" in alerts(doc)
    assert decision(doc, "antiviral-prophylaxis")["settings_used"] == ["prophylaxis_days.lung.rpos"]
    assert doc["settings"]["prophylaxis_days.lung.rpos"] == 200
    longer = run(knowledge, LUNG_RPOS, prophylaxis_days__lung__rpos=365)
    assert regimens(longer)[0]["stop"] == "2027-03-01"


def test_lung_rpos_point_unset_takes_the_first_value_of_the_range(knowledge: Knowledge) -> None:
    # AST 2019 '6‐12 months for CMV R+ lung recipients': unset by the site, the reference profile
    # takes 6 months (day 200, the first value named): the same answer as the example site's 200.
    doc = run(knowledge, LUNG_RPOS, prophylaxis_days__lung__rpos=None)
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "recommended",
        "preemptive-therapy": "not_indicated",
    }
    assert [(r["drug"], r["stop"]) for r in regimens(doc)] == [("valganciclovir", "2026-09-17")]
    d = decision(doc, "antiviral-prophylaxis")
    assert d["reference_profile"] == ["prophylaxis_days.lung.rpos"]
    assert "razonable2019-ctr-ast-cmv" in d["citations"]
    assert doc["missing"] == []
    assert doc["settings_detail"][0]["origin"] == "reference-profile"


def test_child_goes_to_specialist(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(KIDNEY, patient={**KIDNEY["patient"], "age_years": 15}))
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "specialist_review",
        "preemptive-therapy": "specialist_review",
    }
    assert "outside-evidence-base" in alerts(doc)


def test_missing_donor_serostatus(knowledge: Knowledge) -> None:
    tx = transplant()
    del tx["donor_cmv_igg"]
    doc = run(knowledge, with_(KIDNEY, transplant=tx))
    assert decision(doc, "antiviral-prophylaxis")["outcome"] == "insufficient_data"
    assert [m["item"] for m in doc["missing"]] == ["transplant.donor_cmv_igg"]


def test_rpos_lymphocyte_depletion_after_prophylaxis(knowledge: Knowledge) -> None:
    raw = with_(
        KIDNEY,
        assessed_on="2026-07-01",
        transplant=transplant(
            recipient_cmv_igg="positive", co_medications=["tacrolimus", "antithymocyte_globulin"]
        ),
    )
    doc = run(knowledge, raw)
    d = decision(doc, "antiviral-prophylaxis")
    assert (d["outcome"], "T7" in d["rules"]) == ("specialist_review", True)
    assert "late-cmv-risk" in alerts(doc)


def test_heart_dpos_rneg_valganciclovir_intolerance_is_specialist(knowledge: Knowledge) -> None:
    raw = with_(
        KIDNEY,
        patient={**KIDNEY["patient"], "intolerances": ["valganciclovir"]},
        transplant=transplant(organ="heart"),
    )
    doc = run(knowledge, raw)
    assert decision(doc, "antiviral-prophylaxis")["outcome"] == "specialist_review"
    assert "outside-evidence-base" in alerts(doc)


# --- C2: a valganciclovir dose the engine cannot give is not a reason for letermovir (T4) ---------
# T4 switches kidney D+/R− prophylaxis to letermovir only for an ANC below the valganciclovir limit
# (500 cells/µL, label §5.1) or valganciclovir intolerance; the site's choice here is valganciclovir.


def test_no_creatinine_is_insufficient_data_not_letermovir(knowledge: Knowledge) -> None:
    observations = [o for o in creatinine(0.9) if o["code"] != "creatinine"]
    doc = run(knowledge, with_(KIDNEY, observations=observations))
    d = decision(doc, "antiviral-prophylaxis")
    assert d["outcome"] == "insufficient_data"
    assert regimens(doc) == []
    assert "creatinine" in [m["item"] for m in doc["missing"]]
    assert "humar2010-ajt-impact" in d["citations"]


def test_hemodialysis_is_specialist_review_not_letermovir(knowledge: Knowledge) -> None:
    patient = {**KIDNEY["patient"], "dialysis": "hemodialysis"}
    doc = run(knowledge, with_(KIDNEY, patient=patient))
    assert decision(doc, "antiviral-prophylaxis")["outcome"] == "specialist_review"
    assert regimens(doc) == []


def test_crcl_below_10_is_specialist_review_not_letermovir(knowledge: Knowledge) -> None:
    # creatinine 10 mg/dL: 6880 / 720 = 9.6 mL/min (< 10: valganciclovir excluded by its label)
    doc = run(knowledge, with_(KIDNEY, observations=creatinine(10)))
    assert decision(doc, "antiviral-prophylaxis")["outcome"] == "specialist_review"
    assert regimens(doc) == []


def test_anc_below_500_switches_to_letermovir_480(knowledge: Knowledge) -> None:
    observations = [
        {"date": "2026-03-05", "code": "creatinine", "value": 0.9, "unit": "mg/dL"},
        {"date": "2026-03-05", "code": "anc", "value": 400, "unit": "cells/uL"},
    ]
    doc = run(knowledge, with_(KIDNEY, observations=observations))
    assert decision(doc, "antiviral-prophylaxis")["outcome"] == "recommended"
    [let] = regimens(doc)
    assert (let["drug"], let["dose_mg"], let["every_h"], let["stop"]) == (
        "letermovir",
        480,
        24,
        "2026-09-17",
    )


def test_missing_donor_serostatus_cites_the_strategy_rules(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(KIDNEY, transplant=transplant(donor_cmv_igg=None)))
    for decision_id in ("antiviral-prophylaxis", "preemptive-therapy"):
        d = decision(doc, decision_id)
        assert d["outcome"] == "insufficient_data"
        assert {"humar2010-ajt-impact", "kotton2018-sot-cmv-consensus"} <= set(d["citations"])


def test_dpos_rneg_prophylaxis_warns_of_late_cmv_at_its_end(knowledge: Knowledge) -> None:
    doc = run(knowledge, KIDNEY)
    [late] = [a for a in doc["alerts"] if a["code"] == "late-cmv-risk"]
    assert "2026-09-17" in late["message"]  # day 200 after 2026-03-01
