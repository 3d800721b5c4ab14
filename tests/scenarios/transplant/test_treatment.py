"""Treatment of CMV disease after SOT (T8–T10): route by severity, IV → oral switch, stop rule.

Baseline: a 60-year-old man, 70 kg, creatinine 1.0 mg/dL (Cockcroft-Gault 80 × 70 / 72 = 77.8
mL/min: full doses; ganciclovir 5 mg/kg = 350 mg every 12 h, valganciclovir 900 mg every 12 h),
R+ kidney recipient (transplant 2026-01-10, prophylaxis ended at day 100), assessed 2026-06-01.
"""

from __future__ import annotations

from typing import Any

from cmvcds.knowledge import Knowledge
from transplant.helpers import alerts, decision, events, regimens, run, with_

BASE: dict[str, Any] = {
    "id": "sot-disease",
    "assessed_on": "2026-06-01",
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
    "presentation": {"disease": "cmv_syndrome", "severity": "moderate"},
    "observations": [
        {"date": "2026-05-30", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
        {
            "date": "2026-05-30",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 25000,
            "unit": "IU/mL",
        },
    ],
}
IV_GCV = [
    {
        "drug": "ganciclovir",
        "dose_mg": 350,
        "every_h": 12,
        "route": "iv",
        "start": "2026-06-01",
        "indication": "induction",
    }
]


def presentation(**changes: Any) -> dict[str, Any]:
    return {**BASE["presentation"], **changes}


def test_cmv_syndrome_oral_valganciclovir(knowledge: Knowledge) -> None:
    doc = run(knowledge, BASE)
    d = decision(doc, "antiviral-treatment")
    assert (d["outcome"], d["rules"]) == ("recommended", ["T8"])
    [vgc] = regimens(doc)
    assert (vgc["drug"], vgc["indication"], vgc["dose_mg"], vgc["every_h"], vgc["start"]) == (
        "valganciclovir",
        "induction",
        900,
        12,
        "2026-06-01",
    )
    assert "clinical resolution" in vgc["stop_rule"] and "2 consecutive weekly" in vgc["stop_rule"]
    assert [a["severity"] for a in doc["alerts"] if a["code"] == "reduce-immunosuppression"] == [
        "info"
    ]
    assert events(doc, "viral-load")[:2] == ["2026-06-01", "2026-06-08"]
    assert events(doc, "blood-count")[:2] == ["2026-06-01", "2026-06-08"]


def test_tissue_invasive_severe_iv_ganciclovir(knowledge: Knowledge) -> None:
    raw = with_(
        BASE,
        presentation={
            "disease": "tissue_invasive",
            "organs": ["gastrointestinal"],
            "severity": "severe",
        },
    )
    doc = run(knowledge, raw)
    [gcv] = regimens(doc)
    assert (gcv["drug"], gcv["route"], gcv["dose_mg"], gcv["every_h"]) == (
        "ganciclovir",
        "iv",
        350,
        12,
    )
    assert [a["severity"] for a in doc["alerts"] if a["code"] == "reduce-immunosuppression"] == [
        "warning"
    ]


def test_gi_disease_without_documented_oral_intake_iv(knowledge: Knowledge) -> None:
    patient = {**BASE["patient"], "can_take_oral": None}
    patient.pop("can_take_oral")
    raw = with_(
        BASE,
        patient=patient,
        presentation={
            "disease": "tissue_invasive",
            "organs": ["gastrointestinal"],
            "severity": "moderate",
        },
    )
    assert regimens(run(knowledge, raw))[0]["drug"] == "ganciclovir"


def test_very_high_viral_load_optional_setting(knowledge: Knowledge) -> None:
    assert regimens(run(knowledge, BASE))[0]["drug"] == "valganciclovir"
    doc = run(knowledge, BASE, very_high_vl_iu_ml=20000)
    assert regimens(doc)[0]["drug"] == "ganciclovir"
    assert doc["settings"]["very_high_vl_iu_ml"] == 20000


def test_retinitis_whole_plan_specialist(knowledge: Knowledge) -> None:
    raw = with_(
        BASE,
        presentation={
            "disease": "tissue_invasive",
            "organs": ["retinitis"],
            "severity": "moderate",
        },
    )
    doc = run(knowledge, raw)
    assert decision(doc, "antiviral-treatment")["outcome"] == "specialist_review"
    assert regimens(doc)[0]["drug"] == "ganciclovir"


def _on_iv(day: str, course: str, *loads: tuple[str, float]) -> dict[str, Any]:
    raw = with_(
        BASE,
        assessed_on=day,
        therapy=IV_GCV,
        presentation={
            "disease": "tissue_invasive",
            "organs": ["gastrointestinal"],
            "severity": "severe",
            "course": course,
        },
    )
    raw["observations"] = [
        *BASE["observations"],
        *(
            {"date": d, "code": "cmv_dna", "specimen": "plasma", "value": v, "unit": "IU/mL"}
            for d, v in loads
        ),
    ]
    return raw


def test_iv_to_oral_switch_when_all_criteria_met(knowledge: Knowledge) -> None:
    doc = run(knowledge, _on_iv("2026-06-09", "improving", ("2026-06-08", 3000)))
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "recommended" and "T9" in d["rules"]
    [vgc] = regimens(doc)
    assert (vgc["drug"], vgc["dose_mg"], vgc["every_h"], vgc["start"]) == (
        "valganciclovir",
        900,
        12,
        "2026-06-09",
    )
    assert any(r.startswith("switch to oral valganciclovir") for r in d["reasons"])


def test_stay_iv_when_viral_load_not_falling(knowledge: Knowledge) -> None:
    doc = run(knowledge, _on_iv("2026-06-09", "improving", ("2026-06-08", 40000)))
    [gcv] = regimens(doc)
    assert (gcv["drug"], gcv["start"]) == ("ganciclovir", "2026-06-01")
    assert any(
        "viral load not falling" in r for r in decision(doc, "antiviral-treatment")["reasons"]
    )


def test_stay_iv_without_clinical_improvement(knowledge: Knowledge) -> None:
    doc = run(knowledge, _on_iv("2026-06-09", "stable", ("2026-06-08", 3000)))
    assert regimens(doc)[0]["drug"] == "ganciclovir"


def _resolved(day: str, *results: tuple[str, str]) -> dict[str, Any]:
    raw = with_(
        BASE,
        assessed_on=day,
        presentation=presentation(course="resolved"),
        therapy=[
            {
                "drug": "valganciclovir",
                "dose_mg": 900,
                "every_h": 12,
                "route": "oral",
                "start": "2026-06-01",
                "indication": "induction",
            }
        ],
    )
    raw["observations"] = [
        *BASE["observations"],
        *({"date": d, "code": "cmv_dna", "specimen": "plasma", "result": r} for d, r in results),
    ]
    return raw


def test_end_of_treatment_after_two_clear_weekly_tests(knowledge: Knowledge) -> None:
    doc = run(
        knowledge,
        _resolved(
            "2026-06-23", ("2026-06-15", "not_detected"), ("2026-06-22", "detected_below_lloq")
        ),
    )
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "not_indicated"
    assert "T10" in d["rules"]
    assert set(d["settings_used"]) >= {
        "clearance_consecutive_weekly_tests",
        "clearance_criterion",
        "secondary_prophylaxis_sot",
    }
    assert regimens(doc) == []
    assert events(doc, "viral-load")[0] == "2026-06-23"  # secondary prevention: surveillance
    # R+ kidney: consider an mTOR inhibitor instead of mycophenolate (Kotton 2025 Fig. 1)
    assert any("mTOR" in a["message"] for a in doc["alerts"])


def test_not_before_day_14_even_when_clear(knowledge: Knowledge) -> None:
    doc = run(
        knowledge,
        _resolved("2026-06-14", ("2026-06-06", "not_detected"), ("2026-06-13", "not_detected")),
    )
    d = decision(doc, "antiviral-treatment")
    assert d["outcome"] == "recommended"
    assert "continue: day 13 of at least 14" in d["reasons"]


def test_clearance_tests_too_close_together(knowledge: Knowledge) -> None:
    doc = run(
        knowledge,
        _resolved("2026-06-23", ("2026-06-19", "not_detected"), ("2026-06-22", "not_detected")),
    )
    assert decision(doc, "antiviral-treatment")["outcome"] == "recommended"


def test_below_threshold_criterion(knowledge: Knowledge) -> None:
    raw = _resolved("2026-06-23")
    raw["observations"] += [
        {
            "date": "2026-06-22",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 400,
            "unit": "IU/mL",
        }
    ]
    lloq = run(knowledge, raw, clearance_consecutive_weekly_tests=1)
    threshold = run(
        knowledge, raw, clearance_consecutive_weekly_tests=1, clearance_criterion="below_threshold"
    )
    assert decision(lloq, "antiviral-treatment")["outcome"] == "recommended"
    assert decision(threshold, "antiviral-treatment")["outcome"] == "not_indicated"


def test_secondary_valganciclovir_prophylaxis_by_site(knowledge: Knowledge) -> None:
    raw = _resolved("2026-06-23", ("2026-06-15", "not_detected"), ("2026-06-22", "not_detected"))
    doc = run(knowledge, raw, secondary_prophylaxis_sot="valganciclovir")
    [vgc] = regimens(doc)
    assert (vgc["indication"], vgc["dose_mg"], vgc["every_h"], vgc["stop"]) == (
        "prophylaxis",
        900,
        24,
        "2026-08-22",
    )


def test_no_disease_no_treatment_decision(knowledge: Knowledge) -> None:
    doc = run(knowledge, with_(BASE, presentation={"disease": "none"}))
    assert "antiviral-treatment" not in [d["id"] for d in doc["decisions"]]
    assert "reduce-immunosuppression" not in alerts(doc)
