"""Vignettes run WITHOUT a site settings file: the reference profile (core/reference-profile.yaml)
fills each institutional choice with the guideline's preferred value, the output says so and cites
it, and the site's value overrides it (issue 14 item 1; ADR 0006).

Sources of the expected answers:
- AST IDCOP 2019 (Razonable & Humar, Prevention): "3 months to 6 months for CMV D+/R− heart,
  liver, and pancreas recipients", "6‐12 months for CMV D+/R− lung recipients"; R+: 3 months
  prophylaxis or pre-emptive therapy — the first value named is the reference (3 months = day 100,
  6 months = day 200, 12 months = day 365 by rule I-T1).
- IMPACT (Humar 2010): kidney D+/R− valganciclovir to day 200; Limaye 2023 letermovir the
  alternative (site choice).
- No guideline gives a pre-emptive viral-load threshold (Razonable & Hayden 2013 Table 6): no
  default; the surveillance is still recommended and the threshold named once in `missing`.
Dates: transplant 2026-03-01 (SOT) → day 84 = 2026-05-24, day 100 = 2026-06-09, day 200 =
2026-09-17, day 365 = 2027-03-01; HSCT 2026-05-01 → day 100 = 2026-08-09, day 200 = 2026-11-17.
Doses: SOT baseline Cockcroft-Gault 106 mL/min → valganciclovir 900 mg daily (prophylaxis),
900 mg every 12 h (pre-emptive); letermovir 480 mg daily (no cyclosporine).
"""

from __future__ import annotations

from typing import Any

import pytest

from cmvcds.knowledge import Knowledge
from transplant.helpers import alerts, decision, events, outcomes, regimens, run, with_
from transplant.test_hsct import HSCT, load, on_letermovir, tx
from transplant.test_sot import KIDNEY, transplant
from transplant.test_treatment import _resolved

#: No settings file at all.
NONE: dict[str, Any] = {}


def given(doc: dict[str, Any]) -> list[tuple[str, float, float, str | None]]:
    return [(r["drug"], r["dose_mg"], r["every_h"], r.get("stop")) for r in regimens(doc)]


def origins(doc: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    return {u["name"]: (u["value"], u["origin"]) for u in doc["settings_detail"]}


def test_kidney_dpos_rneg_without_settings_valganciclovir_to_day_200(knowledge: Knowledge) -> None:
    doc = run(knowledge, KIDNEY, site=NONE)
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "recommended",
        "preemptive-therapy": "not_indicated",
    }
    assert given(doc) == [("valganciclovir", 900, 24, "2026-09-17")]
    assert origins(doc) == {"kidney_dpos_rneg_drug": ("valganciclovir", "reference-profile")}
    d = decision(doc, "antiviral-prophylaxis")
    assert d["reference_profile"] == ["kidney_dpos_rneg_drug"]
    assert "kidney_dpos_rneg_drug = valganciclovir from the reference profile" in " ".join(
        d["reasons"]
    )
    assert any(r.endswith("letermovir: site choice") for r in d["reasons"])
    assert doc["missing"] == []


def test_kidney_dpos_rneg_site_letermovir_overrides(knowledge: Knowledge) -> None:
    doc = run(knowledge, KIDNEY, site={"kidney_dpos_rneg_drug": "letermovir"})
    assert given(doc) == [("letermovir", 480, 24, "2026-09-17")]
    assert origins(doc) == {"kidney_dpos_rneg_drug": ("letermovir", "site")}
    assert decision(doc, "antiviral-prophylaxis").get("reference_profile") is None


@pytest.mark.parametrize(
    ("organ", "stop"),
    [("liver", "2026-06-09"), ("heart", "2026-06-09"), ("pancreas", "2026-06-09")],
)
def test_dpos_rneg_3_to_6_months_takes_3_months(
    knowledge: Knowledge, organ: str, stop: str
) -> None:
    doc = run(knowledge, with_(KIDNEY, transplant=transplant(organ=organ)), site=NONE)
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "recommended",
        "preemptive-therapy": "not_indicated",
    }
    assert given(doc) == [("valganciclovir", 900, 24, stop)]
    expected = {f"prophylaxis_days.{organ}.dpos_rneg": (100, "reference-profile")}
    if organ == "liver":  # liver D+/R−: prophylaxis or pre-emptive therapy, prophylaxis first
        expected["liver_dpos_rneg_strategy"] = ("prophylaxis", "reference-profile")
    assert origins(doc) == expected
    assert "razonable2019-ctr-ast-cmv" in decision(doc, "antiviral-prophylaxis")["citations"]
    assert doc["missing"] == []


def test_liver_dpos_rneg_day_100_is_the_last_day(knowledge: Knowledge) -> None:
    liver = with_(KIDNEY, transplant=transplant(organ="liver"))
    last = run(knowledge, with_(liver, assessed_on="2026-06-09"), site=NONE)
    after = run(knowledge, with_(liver, assessed_on="2026-06-10"), site=NONE)
    assert decision(last, "antiviral-prophylaxis")["outcome"] == "recommended"
    assert decision(after, "antiviral-prophylaxis")["outcome"] == "not_indicated"
    assert "late-cmv-risk" in alerts(after)
    # the site's 6 months overrides: day 200
    site = run(
        knowledge,
        with_(liver, assessed_on="2026-06-10"),
        site={"prophylaxis_days.liver.dpos_rneg": 200},
    )
    assert given(site) == [("valganciclovir", 900, 24, "2026-09-17")]


def test_lung_dpos_rneg_6_to_12_months_takes_6(knowledge: Knowledge) -> None:
    lung = with_(KIDNEY, transplant=transplant(organ="lung"))
    doc = run(knowledge, lung, site=NONE)
    assert given(doc) == [("valganciclovir", 900, 24, "2026-09-17")]
    assert origins(doc) == {"prophylaxis_days.lung.dpos_rneg": (200, "reference-profile")}
    year = run(knowledge, lung, site={"prophylaxis_days.lung.dpos_rneg": 365})
    assert given(year) == [("valganciclovir", 900, 24, "2027-03-01")]
    assert origins(year) == {"prophylaxis_days.lung.dpos_rneg": (365, "site")}


RPOS_KIDNEY = with_(KIDNEY, transplant=transplant(recipient_cmv_igg="positive"))


def test_rpos_kidney_without_settings_prophylaxis_3_months(knowledge: Knowledge) -> None:
    doc = run(knowledge, RPOS_KIDNEY, site=NONE)
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "recommended",
        "preemptive-therapy": "not_indicated",
    }
    assert given(doc) == [("valganciclovir", 900, 24, "2026-06-09")]
    assert origins(doc) == {"sot_rplus_strategy.kidney": ("prophylaxis", "reference-profile")}
    d = decision(doc, "antiviral-prophylaxis")
    assert any(r.endswith("preemptive: site choice") for r in d["reasons"])


def test_site_preemptive_without_threshold_still_gives_surveillance(knowledge: Knowledge) -> None:
    # The threshold has no guideline value: named once in `missing`; the weekly surveillance
    # through the reference profile's day 84 is still recommended.
    doc = run(knowledge, RPOS_KIDNEY, site={"sot_rplus_strategy.kidney": "preemptive"})
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "not_indicated",
        "preemptive-therapy": "recommended",
    }
    assert [m["item"] for m in doc["missing"]] == ["setting:pet_threshold_iu_ml.sot"]
    assert "no guideline gives a value" in doc["missing"][0]["why"]
    assert origins(doc) == {
        "sot_rplus_strategy.kidney": ("preemptive", "site"),
        "pet_surveillance_days_sot": (84, "reference-profile"),
    }
    weekly = events(doc, "viral-load")
    assert (weekly[0], weekly[-1], len(weekly)) == ("2026-03-08", "2026-05-24", 12)  # day 7 … 84
    assert regimens(doc) == []


def test_measured_load_without_threshold_is_the_one_open_question(knowledge: Knowledge) -> None:
    raw = with_(RPOS_KIDNEY, assessed_on="2026-04-01")
    raw["observations"] = [
        *raw["observations"],
        {
            "date": "2026-03-31",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 5000,
            "unit": "IU/mL",
        },
    ]
    unset = run(knowledge, raw, site={"sot_rplus_strategy.kidney": "preemptive"})
    d = decision(unset, "preemptive-therapy")
    assert d["outcome"] == "insufficient_data"
    assert d["citations"]  # still cites the rule and source it applied (issue 14 item 7)
    assert [m["item"] for m in unset["missing"]] == ["setting:pet_threshold_iu_ml.sot"]
    chosen = run(
        knowledge,
        raw,
        site={"sot_rplus_strategy.kidney": "preemptive", "pet_threshold_iu_ml.sot": 1000},
    )
    assert decision(chosen, "preemptive-therapy")["outcome"] == "recommended"
    assert [(r["drug"], r["dose_mg"], r["every_h"]) for r in regimens(chosen)] == [
        ("valganciclovir", 900, 12)
    ]


def test_hsct_rpos_without_settings_letermovir_and_surveillance(knowledge: Knowledge) -> None:
    doc = run(knowledge, HSCT, site=NONE)
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "recommended",
        "preemptive-therapy": "recommended",
    }
    assert given(doc) == [("letermovir", 480, 24, "2026-08-09")]
    assert [m["item"] for m in doc["missing"]] == ["setting:pet_threshold_iu_ml.hsct"]
    assert events(doc, "viral-load")[0] >= "2026-05-04"


def test_hsct_late_risk_extension_from_reference_and_site_override(knowledge: Knowledge) -> None:
    haplo = with_(HSCT, transplant=tx(hsct_risk=["haploidentical"]))
    doc = run(knowledge, haplo, site=NONE)
    assert given(doc) == [("letermovir", 480, 24, "2026-11-17")]
    assert origins(doc)["hsct_letermovir_extension.haploidentical"] == (True, "reference-profile")
    assert (
        "russo2024-lancet-haematol-letermovir-200"
        in decision(doc, "antiviral-prophylaxis")["citations"]
    )
    off = run(knowledge, haplo, site={"hsct_letermovir_extension.haploidentical": False})
    assert given(off) == [("letermovir", 480, 24, "2026-08-09")]


def test_end_of_treatment_one_clear_weekly_test_by_reference(knowledge: Knowledge) -> None:
    # 'one or two consecutive weekly tests': the reference takes one; the site's two overrides.
    raw = _resolved("2026-06-23", ("2026-06-22", "not_detected"))
    doc = run(knowledge, raw, site=NONE)
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "not_indicated"
    assert {"clearance_consecutive_weekly_tests", "clearance_criterion"} <= set(
        d["reference_profile"]
    )
    # secondary prevention has no guideline preference: named, the rest of the answer given
    assert [m["item"] for m in doc["missing"]] == ["setting:secondary_prophylaxis_sot"]
    two = run(knowledge, raw, site={"clearance_consecutive_weekly_tests": 2})
    assert decision(two, "antiviral-treatment")["outcome"] == "recommended"


@pytest.mark.parametrize(("anc", "drug"), [(499, "foscarnet"), (500, "valganciclovir")])
def test_hsct_foscarnet_below_the_labels_500(knowledge: Knowledge, anc: int, drug: str) -> None:
    # No guideline number for "marrow suppression": the reference profile takes the labels' limit
    # (valganciclovir/ganciclovir not given at ANC < 500/µL). The threshold itself is the site's.
    raw = on_letermovir("2026-06-10", load("2026-06-10", 800), anc=anc)
    doc = run(knowledge, raw, site={"pet_threshold_iu_ml.hsct": 500})
    assert decision(doc, "preemptive-therapy")["outcome"] == "recommended"
    assert [r["drug"] for r in regimens(doc)] == [drug]
    assert origins(doc)["hsct_pet_foscarnet_anc_per_ul"] == (500, "reference-profile")
    assert origins(doc)["pet_threshold_iu_ml.hsct"] == (500, "site")
