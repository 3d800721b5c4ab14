"""Immunocompetent and other immunocompromised vignettes (transplant-hiv.md §4–5, I1–I5).

Baseline: a 30-year-old woman, 60 kg, creatinine 0.7 mg/dL, with a mononucleosis-like illness
(CMV syndrome, mild), assessed 2026-04-02.
"""

from __future__ import annotations

from typing import Any

from transplant.helpers import alerts, decision, outcomes, regimens, run, with_

from cmvcds.knowledge import Knowledge

BASE: dict[str, Any] = {
    "id": "immune",
    "assessed_on": "2026-04-02",
    "context": "immunocompetent",
    "patient": {
        "sex": "female",
        "age_years": 30,
        "weight_kg": 60,
        "height_cm": 165,
        "can_take_oral": True,
    },
    "presentation": {"disease": "cmv_syndrome", "severity": "mild"},
    "observations": [{"date": "2026-04-01", "code": "creatinine", "value": 0.7, "unit": "mg/dL"}],
}


def test_mononucleosis_like_illness_supportive_care(knowledge: Knowledge) -> None:
    doc = run(knowledge, BASE)
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("not_indicated", ["I1"])
    assert "supportive care (antipyretics, hydration, rest)" in d["reasons"][0]
    assert regimens(doc) == []
    assert d["citations"] == ["rafailidis2008-virolj-severe-cmv"]


def test_severe_encephalitis_specialist_with_iv_ganciclovir(knowledge: Knowledge) -> None:
    raw = with_(
        BASE,
        presentation={
            "disease": "tissue_invasive",
            "organs": ["encephalitis"],
            "severity": "life_threatening",
        },
    )
    doc = run(knowledge, raw)
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("specialist_review", ["I2"])
    [gcv] = regimens(doc)
    assert (gcv["drug"], gcv["route"], gcv["dose_mg"], gcv["every_h"]) == (
        "ganciclovir",
        "iv",
        300,
        12,
    )
    assert "low-evidence" in alerts(doc)


def test_moderate_hepatitis_stays_supportive(knowledge: Knowledge) -> None:
    raw = with_(
        BASE,
        presentation={
            "disease": "tissue_invasive",
            "organs": ["hepatitis"],
            "severity": "moderate",
        },
    )
    doc = run(knowledge, raw)
    assert decision(doc, "antiviral-treatment")["outcome"] == "not_indicated"
    assert "low-evidence" in alerts(doc)


def test_severe_colitis_is_specialist(knowledge: Knowledge) -> None:
    raw = with_(
        BASE,
        presentation={
            "disease": "tissue_invasive",
            "organs": ["gastrointestinal"],
            "severity": "severe",
        },
    )
    assert decision(run(knowledge, raw), "antiviral-treatment")["outcome"] == "specialist_review"


def test_icu_reactivation_no_prophylaxis_no_preemptive(knowledge: Knowledge) -> None:
    raw = with_(
        BASE,
        patient={**BASE["patient"], "icu": True},
        presentation={"disease": "asymptomatic_dnaemia"},
    )
    raw["observations"] = [
        *BASE["observations"],
        {
            "date": "2026-04-01",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 2000,
            "unit": "IU/mL",
        },
    ]
    doc = run(knowledge, raw)
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "not_indicated",
        "preemptive-therapy": "not_indicated",
    }
    assert decision(doc, "antiviral-prophylaxis")["citations"] == [
        "limaye2017-jama-icu-ganciclovir"
    ]
    assert decision(doc, "preemptive-therapy")["citations"] == [
        "papazian2021-aic-preemptive-ganciclovir"
    ]


COMPROMISED: dict[str, Any] = with_(BASE, context="immunocompromised")


def test_immunocompromised_proven_gi_disease_treated_like_transplant(knowledge: Knowledge) -> None:
    raw = with_(
        COMPROMISED,
        presentation={
            "disease": "tissue_invasive",
            "organs": ["gastrointestinal"],
            "severity": "moderate",
        },
    )
    doc = run(knowledge, raw)
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("recommended", ["I4", "T8"])
    [vgc] = regimens(doc)
    assert (vgc["drug"], vgc["dose_mg"], vgc["every_h"]) == ("valganciclovir", 900, 12)
    assert {"outside-evidence-base", "reduce-immunosuppression"} <= alerts(doc)
    assert decision(doc, "antiviral-prophylaxis")["outcome"] == "not_indicated"


def test_immunocompromised_severe_pneumonitis_iv(knowledge: Knowledge) -> None:
    raw = with_(
        COMPROMISED,
        presentation={
            "disease": "tissue_invasive",
            "organs": ["pneumonitis"],
            "severity": "severe",
        },
    )
    assert regimens(run(knowledge, raw))[0]["drug"] == "ganciclovir"


def test_immunocompromised_asymptomatic_dnaemia_not_treated(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(COMPROMISED, presentation={"disease": "asymptomatic_dnaemia"}))
    assert outcomes(doc) == {
        "antiviral-prophylaxis": "not_indicated",
        "preemptive-therapy": "not_indicated",
    }
    assert regimens(doc) == []
