"""HSCT vignettes (transplant-hiv.md §2, T11–T16).

Baseline: a 45-year-old woman, 65 kg, creatinine 0.8 mg/dL, allogeneic HSCT on 2026-05-01, R+,
on tacrolimus, assessed on day 3. Day 100 = 2026-08-09; day 200 = 2026-11-17; day 28 = 2026-05-29.
"""

from __future__ import annotations

from typing import Any

from cmvcds.knowledge import Knowledge
from transplant.helpers import alerts, decision, events, outcomes, regimens, run, with_

HSCT: dict[str, Any] = {
    "id": "hsct",
    "assessed_on": "2026-05-04",
    "context": "transplant",
    "patient": {"sex": "female", "age_years": 45, "weight_kg": 65, "height_cm": 165},
    "transplant": {
        "organ": "hsct",
        "allogeneic": True,
        "date": "2026-05-01",
        "donor_cmv_igg": "negative",
        "recipient_cmv_igg": "positive",
        "co_medications": ["tacrolimus"],
    },
    "observations": [
        {"date": "2026-05-03", "code": "creatinine", "value": 0.8, "unit": "mg/dL"},
        {"date": "2026-05-03", "code": "anc", "value": 2000, "unit": "cells/uL"},
    ],
}
LETERMOVIR = [
    {
        "drug": "letermovir",
        "dose_mg": 480,
        "every_h": 24,
        "route": "oral",
        "start": "2026-05-02",
        "indication": "prophylaxis",
    }
]


def tx(**changes: Any) -> dict[str, Any]:
    return {**HSCT["transplant"], **changes}


def on_letermovir(day: str, *extra: dict[str, Any], anc: int = 2000) -> dict[str, Any]:
    raw = with_(HSCT, assessed_on=day, therapy=LETERMOVIR)
    raw["observations"] = [
        {"date": "2026-05-03", "code": "creatinine", "value": 0.8, "unit": "mg/dL"},
        {"date": day, "code": "anc", "value": anc, "unit": "cells/uL"},
        *extra,
    ]
    return raw


def load(day: str, value: float) -> dict[str, Any]:
    return {"date": day, "code": "cmv_dna", "specimen": "plasma", "value": value, "unit": "IU/mL"}


def test_rpos_letermovir_480_through_day_100(knowledge: Knowledge) -> None:
    doc = run(knowledge, HSCT)
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "recommended",
        "preemptive-therapy": "recommended",
    }
    [let] = regimens(doc)
    assert (let["drug"], let["dose_mg"], let["every_h"], let["start"], let["stop"]) == (
        "letermovir",
        480,
        24,
        "2026-05-04",
        "2026-08-09",
    )
    assert "review at day 90" in let["stop_rule"]
    assert {"drug-interaction", "hsv-vzv-prophylaxis-needed"} <= alerts(doc)
    assert decision(doc, "antiviral-prophylaxis")["rules"] == ["T11", "T12"]
    # weekly CMV PCR from the HSCT day continues through day 100: day 3 is past, day 98 the last
    assert (
        events(doc, "viral-load")[0] == "2026-05-08"
        and events(doc, "viral-load")[-1] == "2026-08-07"
    )
    assert len(events(doc, "viral-load")) == 14


def test_rpos_letermovir_240_with_cyclosporine(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(HSCT, transplant=tx(co_medications=["cyclosporine"])))
    [let] = regimens(doc)
    assert (let["drug"], let["dose_mg"]) == ("letermovir", 240)
    assert any(
        "simvastatin" in a["message"] for a in doc["alerts"] if a["code"] == "drug-interaction"
    )


def test_rpos_at_risk_extension_to_day_200(knowledge: Knowledge) -> None:
    raw = with_(on_letermovir("2026-07-31"), transplant=tx(hsct_risk=["gvhd_steroids"]))
    doc = run(knowledge, raw)
    [let] = regimens(doc)
    assert (let["start"], let["stop"]) == ("2026-05-02", "2026-11-17")
    assert "late-cmv-risk" in alerts(doc)
    assert "T13" in decision(doc, "antiviral-prophylaxis")["rules"]
    assert doc["settings"]["hsct_letermovir_extension.gvhd_steroids"] is True


def test_risk_not_counted_by_site_no_extension(knowledge: Knowledge) -> None:
    raw = with_(on_letermovir("2026-07-31"), transplant=tx(hsct_risk=["gvhd_steroids"]))
    doc = run(knowledge, raw, hsct_letermovir_extension__gvhd_steroids=False)
    assert regimens(doc)[0]["stop"] == "2026-08-09"


def test_start_after_day_28_is_specialist(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(HSCT, assessed_on="2026-05-30"))
    assert decision(doc, "antiviral-prophylaxis")["outcome"] == "specialist_review"
    on_day_28 = run(knowledge, with_(HSCT, assessed_on="2026-05-29"))
    assert decision(on_day_28, "antiviral-prophylaxis")["outcome"] == "recommended"


def test_threshold_crossed_on_letermovir_valganciclovir(knowledge: Knowledge) -> None:
    doc = run(knowledge, on_letermovir("2026-06-10", load("2026-06-10", 800)))
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "not_indicated",
        "preemptive-therapy": "recommended",
    }
    [vgc] = regimens(doc)
    assert (vgc["drug"], vgc["indication"], vgc["dose_mg"], vgc["every_h"]) == (
        "valganciclovir",
        "preemptive",
        900,
        12,
    )
    assert "stop letermovir" in decision(doc, "antiviral-prophylaxis")["reasons"][0]


def test_threshold_crossed_with_low_neutrophils_foscarnet(knowledge: Knowledge) -> None:
    doc = run(knowledge, on_letermovir("2026-06-10", load("2026-06-10", 800), anc=600))
    [fos] = regimens(doc)
    assert (fos["drug"], fos["indication"], fos["route"]) == ("foscarnet", "preemptive", "iv")
    assert {"electrolytes", "renal-function"} <= {s["event"] for s in doc["schedule"]}
    assert "hsct_pet_foscarnet_anc_per_ul" in decision(doc, "preemptive-therapy")["settings_used"]


def test_neutrophils_at_the_site_level_keep_valganciclovir(knowledge: Knowledge) -> None:
    doc = run(knowledge, on_letermovir("2026-06-10", load("2026-06-10", 800), anc=1000))
    assert [r["drug"] for r in regimens(doc)] == ["valganciclovir"]


def test_low_level_dnaemia_on_letermovir_repeat_in_a_week(knowledge: Knowledge) -> None:
    doc = run(knowledge, on_letermovir("2026-06-10", load("2026-06-10", 200)))
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "recommended",
        "preemptive-therapy": "recommended",
    }
    assert [r["drug"] for r in regimens(doc)] == ["letermovir"]
    assert "2026-06-17" in events(doc, "viral-load")
    assert any("abortive" in r for r in decision(doc, "preemptive-therapy")["reasons"])


def test_rneg_no_letermovir_surveillance(knowledge: Knowledge) -> None:
    doc = run(
        knowledge,
        with_(HSCT, transplant=tx(recipient_cmv_igg="negative", donor_cmv_igg="positive")),
    )
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "not_indicated",
        "preemptive-therapy": "recommended",
    }
    assert regimens(doc) == []
    assert events(doc, "viral-load")[-1] == "2026-08-07"
    assert "cmv-safe-blood-products" not in alerts(doc)


def test_dneg_rneg_safe_blood(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(HSCT, transplant=tx(recipient_cmv_igg="negative")))
    assert "cmv-safe-blood-products" in alerts(doc)


def test_autologous_nothing_routine(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(HSCT, transplant=tx(allogeneic=False)))
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "not_indicated",
        "preemptive-therapy": "not_indicated",
    }
    t_cells = run(
        knowledge, with_(HSCT, transplant=tx(allogeneic=False, hsct_risk=["t_cell_depleted"]))
    )
    assert outcomes(t_cells)["antiviral-prophylaxis"] == "specialist_review"


def test_hsct_pneumonitis_iv_ganciclovir_ivig_specialist_note(knowledge: Knowledge) -> None:
    raw = on_letermovir("2026-06-10", load("2026-06-10", 50000))
    raw["presentation"] = {
        "disease": "tissue_invasive",
        "organs": ["pneumonitis"],
        "severity": "severe",
    }
    doc = run(knowledge, raw)
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "recommended" and "T16" in d["rules"]
    assert any("IVIG" in r for r in d["reasons"])
    [gcv] = regimens(doc)
    assert (gcv["drug"], gcv["route"], gcv["dose_mg"], gcv["every_h"]) == (
        "ganciclovir",
        "iv",
        325,
        12,
    )
    assert decision(doc, "preemptive-therapy")["outcome"] == "not_indicated"
    assert "reduce-immunosuppression" in alerts(doc)


def test_letermovir_given_as_treatment_is_flagged(knowledge: Knowledge) -> None:
    raw = with_(HSCT, therapy=[{**LETERMOVIR[0], "indication": "induction"}])
    doc = run(knowledge, raw)
    assert "not-a-treatment-drug" in alerts(doc)


def test_allogeneic_unknown_is_insufficient_data_citing_its_rules(knowledge: Knowledge) -> None:
    raw = with_(HSCT, transplant={k: v for k, v in HSCT["transplant"].items() if k != "allogeneic"})
    doc = run(knowledge, raw)
    for decision_id in ("antiviral-prophylaxis", "preemptive-therapy"):
        d = decision(doc, decision_id)
        assert d["outcome"] == "insufficient_data"
        assert {"prevymis-us-label", "marty2017-nejm-letermovir"} <= set(d["citations"])
    assert "transplant.allogeneic" in [m["item"] for m in doc["missing"]]


def test_letermovir_480_with_cyclosporine_no_indication_given(knowledge: Knowledge) -> None:
    # letermovir is a prophylaxis-only drug: the order is checked as prophylaxis without asking.
    # With cyclosporine the label dose is 240 mg daily; 480 mg is 2× the labelled daily amount.
    order = {k: v for k, v in LETERMOVIR[0].items() if k != "indication"}
    raw = with_(
        HSCT,
        assessed_on="2026-06-01",
        transplant=tx(co_medications=["cyclosporine"]),
        therapy=[order],
    )
    doc = run(knowledge, raw)
    assert "dose-above-target" in alerts(doc)
    assert "therapy:letermovir.indication" not in [m["item"] for m in doc["missing"]]
    [let] = regimens(doc)
    assert let["dose_mg"] == 240
    # one alert per interaction: the 240 mg dose, the immunosuppressant levels, the statins
    interactions = [a["message"] for a in doc["alerts"] if a["code"] == "drug-interaction"]
    assert len(interactions) == 3
    assert sum("raises" in m for m in interactions) == 1
    assert sum("simvastatin" in m for m in interactions) == 1
