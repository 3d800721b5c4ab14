"""probe11's congenital findings (outside tester, session 8; its vignettes adapted in ./probe11/).

- S1: a reported UL97:M460V genotype (ganciclovir resistance, the resistance engine's call) was
  ignored: "continue valganciclovir". Seed 001: both infants' resistance was UL97, seen as a rise in
  viral load. Now the genotype is read through ``interpret_mutations``, named with every drug it
  affects, and the plan drug it confers resistance to is not continued (specialist review, critical).
- S2: creatinine 1.0–2.5 mg/dL in a 3-week-old was never read. Now the infant's creatinine
  clearance (valganciclovir label Schwartz, k 0.45 / 0.33 under 1 year) is compared with the
  trial's renal entry criterion (≥ 10 mL/min/1.73 m², pack row flagged unverified); below it:
  outside the trial, critical ``renal-exclusion``, specialist review, no dose.
- W1: a course held for neutropenia restarts when the ANC recovers above 750 (Kimberlin 2015);
  platelets and Hb never measured are asked for, never named as a toxicity.
- W2: an asymptomatic infant already on valganciclovir: not indicated, review whether to stop,
  and no prompt to raise the dose.
- U5: a course past its 6 months is said to be complete ("stop and record the stop date"), and the
  hearing status at diagnosis (``congenital.hearing``) is read in the long-course review.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.engine.dosing import recommend_dose
from cmvcds.engine.dosing.patient import dose_patient_from_case
from cmvcds.knowledge import Knowledge

HERE = Path(__file__).parent / "probe11"


def raw(name: str) -> dict[str, Any]:
    found = yaml.safe_load(next(HERE.glob(f"{name}*.yaml")).read_text(encoding="utf-8"))
    assert isinstance(found, dict)
    return found


def run(case: dict[str, Any], knowledge: Knowledge) -> dict[str, Any]:
    parsed = parse_case(
        copy.deepcopy(case), knowledge, today=date.fromisoformat(str(case["assessed_on"]))
    )
    return assess(parsed, knowledge).to_dict()


def decision(doc: dict[str, Any]) -> dict[str, Any]:
    (d,) = [d for d in doc["decisions"] if d["id"] == "valganciclovir-congenital"]
    return d


def codes(doc: dict[str, Any]) -> list[str]:
    return [a["code"] for a in doc["alerts"]]


def with_creatinine(
    value: float, *, height: float | None = 50, sga: str | None = None
) -> dict[str, Any]:
    """a27 (3 weeks old, 50 cm, on valganciclovir since day 9) with another creatinine."""
    case = raw("a27")
    case["observations"] = [
        o for o in case["observations"] if o["code"] not in ("creatinine", "height")
    ] + [{"date": "2026-06-21", "code": "creatinine", "value": value, "unit": "mg/dL"}]
    if height is not None:
        case["observations"].append(
            {"date": "2026-06-21", "code": "height", "value": height, "unit": "cm"}
        )
    if sga is not None:
        case["patient"]["birth_weight_for_gestational_age"] = sga
    return case


# -- S1: the genotype -------------------------------------------------------------------------


def test_s1_m460v_is_named_and_valganciclovir_is_not_continued(knowledge: Knowledge) -> None:
    doc = run(raw("a23"), knowledge)
    d = decision(doc)
    said = " ".join(d["reasons"])
    assert d["outcome"] == "specialist_review"
    assert "UL97:M460V" in said
    assert (
        "ganciclovir moderate resistance" in said and "valganciclovir moderate resistance" in said
    )
    assert "continue to complete" not in said
    assert doc["regimens"] == []  # no "continue" regimen of a drug the virus resists
    (critical,) = [a for a in doc["alerts"] if a["code"] == "genotypic-resistance"]
    assert critical["severity"] == "critical"
    assert "UL97:M460V" in critical["message"] and critical["citations"]


def test_s1_a_genotype_without_mutation_is_said_and_the_course_continues(
    knowledge: Knowledge,
) -> None:
    case = raw("a23")
    case["genotype"][0]["mutations"] = []
    doc = run(case, knowledge)
    d = decision(doc)
    said = " ".join(d["reasons"])
    assert d["outcome"] == "recommended"
    assert "(UL97, UL54 sequenced): no resistance mutation was found" in said
    assert "genotypic-resistance" not in codes(doc)
    assert [r["drug"] for r in doc["regimens"]] == ["valganciclovir"]


def test_s1_a_genotype_of_the_assessment_day_is_read(knowledge: Knowledge) -> None:
    case = raw("a23")
    case["genotype"][0]["date"] = case["assessed_on"]  # the boundary: the same day is read
    assert decision(run(case, knowledge))["outcome"] == "specialist_review"


# -- S2: the infant's renal function ----------------------------------------------------------


def test_s2_creatinine_2_5_is_outside_the_trial_with_a_critical_alert(knowledge: Knowledge) -> None:
    doc = run(raw("a27"), knowledge)
    d = decision(doc)
    assert d["outcome"] == "specialist_review"
    assert doc["findings"]["congenital"]["trial_population"] == "outside"
    # 0.45 × 50 / 2.5 = 9.0 and 0.33 × 50 / 2.5 = 6.6, both below 10
    assert "9 mL/min/1.73 m² (k 0.45) or 6.6 mL/min/1.73 m² (k 0.33)" in " ".join(d["reasons"])
    (renal,) = [a for a in doc["alerts"] if a["code"] == "renal-exclusion"]
    assert renal["severity"] == "critical"
    assert doc["regimens"] == []


@pytest.mark.parametrize(
    ("creatinine", "outside"),
    [(2.25, False), (2.26, True)],  # 0.45 × 50 / 2.25 = 10.0 exactly: not below the criterion
)
def test_s2_boundary_of_the_renal_entry_criterion(
    knowledge: Knowledge, creatinine: float, outside: bool
) -> None:
    doc = run(with_creatinine(creatinine, sga="appropriate"), knowledge)
    assert doc["findings"]["congenital"]["trial_population"] == ("outside" if outside else "inside")
    assert ("renal-exclusion" in codes(doc)) is outside
    assert decision(doc)["outcome"] == ("specialist_review" if outside else "recommended")


def test_s2_low_birth_weight_for_age_uses_k_0_33(knowledge: Knowledge) -> None:
    # 0.33 × 50 / 1.6 = 10.3 (inside), 0.33 × 50 / 1.7 = 9.7 (outside)
    assert "renal-exclusion" not in codes(run(with_creatinine(1.6, sga="low"), knowledge))
    assert "renal-exclusion" in codes(run(with_creatinine(1.7, sga="low"), knowledge))


def test_s2_estimates_on_either_side_ask_for_the_birth_weight_class(knowledge: Knowledge) -> None:
    # creatinine 2.0: 0.45 × 50 / 2 = 11.25 (inside) but 0.33 × 50 / 2 = 8.25 (outside)
    doc = run(with_creatinine(2.0), knowledge)
    assert "patient.birth_weight_for_gestational_age" in [m["item"] for m in doc["missing"]]
    assert "renal-exclusion" not in codes(doc)


def test_s2_a_creatinine_without_length_asks_for_it(knowledge: Knowledge) -> None:
    doc = run(with_creatinine(2.5, height=None), knowledge)
    assert "height" in [m["item"] for m in doc["missing"]]


def test_s2_a09_creatinine_is_read_and_said(knowledge: Knowledge) -> None:
    """a09 (creatinine 1.6, 50 cm): 14.0 / 10.3 mL/min/1.73 m², not below the criterion of 10 —
    the estimate is stated (it was ignored before)."""
    said = " ".join(decision(run(raw("a09"), knowledge))["reasons"])
    assert "Renal function read: estimated creatinine clearance 14 mL/min/1.73 m²" in said


def test_s2_the_dose_calculator_reads_the_same_rule(knowledge: Knowledge) -> None:
    """``cmvcds dose`` for the congenital regimen (probe11 D37 at creatinine 2.5)."""
    case = raw("a27")
    parsed = parse_case(case, knowledge, today=date(2026, 6, 22))
    patient = dose_patient_from_case(parsed, date(2026, 6, 22))
    dose = recommend_dose(patient, "valganciclovir", "congenital", knowledge)
    assert dose.outcome.value == "specialist_review"
    assert dose.regimen is None
    assert [a.code.value for a in dose.alerts if a.severity.value == "critical"] == [
        "renal-exclusion"
    ]
    normal = dose_patient_from_case(
        parse_case(with_creatinine(0.3), knowledge, today=date(2026, 6, 22)), date(2026, 6, 22)
    )
    ok = recommend_dose(normal, "valganciclovir", "congenital", knowledge)
    assert ok.outcome.value == "recommended"
    assert not any(name in ("creatinine", "height") for name, _ in ok.inputs_not_used)


# -- W1, W2, U5 --------------------------------------------------------------------------------


def test_w1_restart_follows_the_hold_cause(knowledge: Knowledge) -> None:
    doc = run(raw("a04"), knowledge)
    d = decision(doc)
    said = " ".join(d["reasons"])
    assert d["outcome"] == "recommended"
    assert "restart" in said
    assert "Not measured since the hold: platelets, hemoglobin" in said
    assert "thrombocytopenia" not in codes(doc) and "anemia" not in codes(doc)


def test_w1_anc_exactly_750_keeps_holding(knowledge: Knowledge) -> None:
    case = raw("a04")
    for o in case["observations"]:
        if o["code"] == "anc" and o["value"] == 900:
            o["value"] = 750  # restart is strictly above 750
    d = decision(run(case, knowledge))
    assert d["outcome"] == "excluded"
    assert "restart only when ANC above 750" in " ".join(d["reasons"])


def test_w2_a_running_course_not_indicated_is_reviewed_not_dosed_up(knowledge: Knowledge) -> None:
    doc = run(raw("a20"), knowledge)
    d = decision(doc)
    assert d["outcome"] == "not_indicated"
    assert any("review whether to stop it" in r for r in d["reasons"])
    assert "dose-below-target" not in codes(doc)


def test_w2_an_overdose_in_an_asymptomatic_infant_is_still_flagged(knowledge: Knowledge) -> None:
    case = raw("a20")
    case["therapy"][0]["dose_mg"] = 640  # 10 × the 64 mg target
    assert "dose-above-target" in codes(run(case, knowledge))


def test_u5_a_course_past_six_months_is_complete_and_hearing_is_read(
    knowledge: Knowledge,
) -> None:
    doc = run(raw("a22"), knowledge)
    said = " ".join(decision(doc)["reasons"])
    assert "The planned 6-month course was complete on 2026-12-05: stop valganciclovir" in said
    assert "hearing at diagnosis bilateral snhl" in said
    assert "hearing not recorded" not in said
    assert doc["findings"]["long_course_review"]["hearing_at_diagnosis"] == "bilateral_snhl"
