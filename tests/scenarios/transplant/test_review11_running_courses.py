"""Running courses the label excludes, and antivirals proposed beside a running course (review11).

The reviewer's cases (``/tmp/review11/repro``, review11 S1, S2, M4), each a 60-year-old, 70 kg
kidney D+/R− recipient, assessed as the reviewer ran them (no site settings file):

- S1: valganciclovir 900 mg every 12 h on hemodialysis or at CrCl < 10 mL/min (creatinine
  10 mg/dL: Cockcroft–Gault 80 × 70 / (72 × 10) = 7.8 mL/min). VALCYTE US PI §2.5 Table 2 and
  §8.6 (the pack's ``below10``/``hemodialysis`` bands): "not recommended … use IV ganciclovir".
  Before: no dose alert, and antiviral-treatment "continue … see its alerts" with none.
- S2: foscarnet 50 mg/kg every 12 h at CrCl 0.93 mL/min/kg (FOSCAVIR Table 13 induction,
  > 0.8–1.0 band; creatinine 1.25: 80 × 70 / (72 × 1.25) = 62.2 mL/min ÷ 70 kg), and IV
  ganciclovir 5 mg/kg every 12 h (CYTOVENE-IV induction, and the first phase of its transplant
  prevention regimen) or 2.5 mg/kg every 24 h at CrCl 39, each without an indication, with
  DNAemia falling 250,000 → 90,000 IU/mL. FOSCAVIR has no labelled prophylaxis dose (the
  pack's ``other`` row: ``not_indicated``). Before: valganciclovir prophylaxis "start now" beside
  the course and "no routine viral-load monitoring while prophylaxis runs".
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from cmvcds.knowledge import Knowledge
from transplant.helpers import decision, run

NO_SITE: dict[str, Any] = {}

KIDNEY = """
format: cmvcds-case/1
id: review11
assessed_on: "2026-05-30"
context: transplant
patient: {sex: male, age_years: 60, weight_kg: 70, height_cm: 175DIALYSIS}
transplant: {organ: kidney, date: "2026-03-01", donor_cmv_igg: positive, recipient_cmv_igg: negative}
observations:
OBSERVATIONS
therapy:
THERAPY
"""


def case(observations: str, therapy: str, dialysis: bool = False) -> dict[str, Any]:
    text = (
        KIDNEY.replace("DIALYSIS", ", dialysis: hemodialysis" if dialysis else "")
        .replace("OBSERVATIONS", observations)
        .replace("THERAPY", therapy)
    )
    raw: dict[str, Any] = yaml.safe_load(text)
    return raw


VGC_Q12 = '  - {drug: valganciclovir, dose_mg: 900, every_h: 12, route: oral, start: "2026-03-03"INDICATION}'
CREATININE_4 = '  - {date: "2026-05-29", code: creatinine, value: 4.0, unit: mg/dL}'
CREATININE_10 = '  - {date: "2026-05-29", code: creatinine, value: 10.0, unit: mg/dL}'


def falling(creatinine: str) -> str:
    return "\n".join(
        [
            f'  - {{date: "2026-05-08", code: creatinine, value: {creatinine}, unit: mg/dL}}',
            '  - {date: "2026-05-08", code: cmv_dna, value: 250000, unit: IU/mL, specimen: plasma}',
            f'  - {{date: "2026-05-29", code: creatinine, value: {creatinine}, unit: mg/dL}}',
            '  - {date: "2026-05-29", code: cmv_dna, value: 90000, unit: IU/mL, specimen: plasma}',
        ]
    )


S1_CASES = {
    # r1_vgc_noind_hd, r1_vgc_noind_crcl8, r1_vgc_induction_hd (+ prophylaxis, maintenance)
    "noind_hd": case(CREATININE_4, VGC_Q12.replace("INDICATION", ""), dialysis=True),
    "noind_crcl8": case(CREATININE_10, VGC_Q12.replace("INDICATION", "")),
    "induction_hd": case(
        CREATININE_4, VGC_Q12.replace("INDICATION", ", indication: induction"), dialysis=True
    ),
    "prophylaxis_crcl8": case(
        CREATININE_10, VGC_Q12.replace("INDICATION", ", indication: prophylaxis")
    ),
    "maintenance_hd": case(
        CREATININE_4, VGC_Q12.replace("INDICATION", ", indication: maintenance"), dialysis=True
    ),
}


@pytest.mark.parametrize("name", sorted(S1_CASES))
def test_excluded_valganciclovir_course_has_a_critical_alert_naming_iv_ganciclovir(
    knowledge: Knowledge, name: str
) -> None:
    document = run(knowledge, S1_CASES[name], site=NO_SITE)
    exclusions = [
        a
        for a in document["alerts"]
        if a["code"] == "renal-exclusion" and a["severity"] == "critical"
    ]
    assert len(exclusions) == 1, document["alerts"]
    message = exclusions[0]["message"]
    assert message.startswith("valganciclovir ")
    assert "not recommended" in message and "use IV ganciclovir" in message
    assert "valcyte-us-label" in exclusions[0]["citations"]


@pytest.mark.parametrize("name", ["noind_hd", "noind_crcl8", "induction_hd"])
def test_excluded_valganciclovir_course_is_never_continued(knowledge: Knowledge, name: str) -> None:
    document = run(knowledge, S1_CASES[name], site=NO_SITE)
    treatment = decision(document, "antiviral-treatment")
    assert treatment["outcome"] == "specialist_review"
    assert not any(r.startswith("continue") for r in treatment["reasons"])
    assert any(
        "the label gives no dose of it for this patient; do not continue it" in r
        and "use IV ganciclovir" in r
        for r in treatment["reasons"]
    )
    assert not any(r["drug"] == "valganciclovir" for r in document["regimens"])


def test_a_lower_band_keeps_its_overdose_alert(knowledge: Knowledge) -> None:
    # r1_vgc_noind_crcl19 (creatinine 4.0, CrCl 19.4): the band 10–24 is dosed (450 mg every
    # 48 h), so the review10 overdose alert stands (8×), not an exclusion
    document = run(knowledge, case(CREATININE_4, VGC_Q12.replace("INDICATION", "")), site=NO_SITE)
    codes = {(a["code"], a["severity"]) for a in document["alerts"]}
    assert ("dose-renal-adjustment", "critical") in codes
    assert "renal-exclusion" not in {c for c, _ in codes}


def test_a_reason_points_to_alerts_only_when_there_are_some(knowledge: Knowledge) -> None:
    # M4: valganciclovir proposed as prophylaxis on hemodialysis, nothing running: the decision
    # gives the label's reason, not "see its alerts" (the dosing engine raised none)
    document = run(knowledge, case(CREATININE_4, "  []", dialysis=True), site=NO_SITE)
    prophylaxis = decision(document, "antiviral-prophylaxis")
    line = [r for r in prophylaxis["reasons"] if r.startswith("valganciclovir prophylaxis:")]
    assert len(line) == 1
    assert "see its alerts" not in line[0]
    assert "not recommended on hemodialysis; use IV ganciclovir" in line[0]


FOSCARNET = '  - {drug: foscarnet, dose_mg_per_kg: 50, every_h: 12, route: iv, start: "2026-05-10"INDICATION}'
GANCICLOVIR_5Q12 = (
    '  - {drug: ganciclovir, dose_mg_per_kg: 5, every_h: 12, route: iv, start: "2026-05-10"}'
)
GANCICLOVIR_CRCL39 = (
    '  - {drug: ganciclovir, dose_mg_per_kg: 2.5, every_h: 24, route: iv, start: "2026-05-10"}'
)

S2_CASES = {
    "foscarnet_noind": (case(falling("1.25"), FOSCARNET.replace("INDICATION", "")), "foscarnet"),
    "ganciclovir5q12_noind": (case(falling("0.9"), GANCICLOVIR_5Q12), "ganciclovir"),
    "ganciclovir_noind_crcl39": (case(falling("2.0"), GANCICLOVIR_CRCL39), "ganciclovir"),
}


@pytest.mark.parametrize("name", sorted(S2_CASES))
def test_no_second_antiviral_beside_a_course_that_may_be_treatment(
    knowledge: Knowledge, name: str
) -> None:
    raw, drug = S2_CASES[name]
    document = run(knowledge, raw, site=NO_SITE)
    assert {r["drug"] for r in document["regimens"]} == {drug}
    prophylaxis = decision(document, "antiviral-prophylaxis")
    preemptive = decision(document, "preemptive-therapy")
    assert prophylaxis["outcome"] == "insufficient_data"
    assert preemptive["outcome"] == "insufficient_data"
    reasons = prophylaxis["reasons"] + preemptive["reasons"]
    assert not any("start now" in r for r in reasons)
    assert not any("no routine viral-load monitoring" in r for r in reasons)
    assert any(
        f"no valganciclovir prophylaxis beside the {drug} course: it may treat CMV infection" in r
        for r in reasons
    )
    assert f"therapy:{drug}.indication" in {m["item"] for m in document["missing"]}
    # the same course is not read as a prophylaxis breakthrough either
    assert "check-dosing-adherence" not in {a["code"] for a in document["alerts"]}


def test_foscarnet_is_never_said_to_be_at_a_prophylaxis_dose(knowledge: Knowledge) -> None:
    raw, _ = S2_CASES["foscarnet_noind"]
    prophylaxis = decision(run(knowledge, raw, site=NO_SITE), "antiviral-prophylaxis")
    assert not any("prophylaxis dose (or not comparable)" in r for r in prophylaxis["reasons"])
    assert any("the label gives foscarnet no prophylaxis dose" in r for r in prophylaxis["reasons"])
    assert "foscavir-us-label" in prophylaxis["citations"]


def test_foscarnet_with_its_indication_is_unchanged(knowledge: Knowledge) -> None:
    # r9b2_foscarnet_induction, the reviewer's control: treatment closes prevention (T20)
    raw = case(falling("1.25"), FOSCARNET.replace("INDICATION", ", indication: induction"))
    document = run(knowledge, raw, site=NO_SITE)
    assert decision(document, "antiviral-prophylaxis")["outcome"] == "not_indicated"
    assert decision(document, "preemptive-therapy")["outcome"] == "not_indicated"
    assert decision(document, "antiviral-treatment")["outcome"] == "recommended"
    assert [r["drug"] for r in document["regimens"]] == ["foscarnet"]


NOT_DETECTED = "\n".join(
    [
        '  - {date: "2026-05-29", code: creatinine, value: 1.0, unit: mg/dL}',
        '  - {date: "2026-05-29", code: cmv_dna, result: not_detected, specimen: plasma}',
    ]
)


def test_prophylaxis_of_another_drug_is_replaced_never_doubled(knowledge: Knowledge) -> None:
    course = '  - {drug: ganciclovir, dose_mg_per_kg: 5, every_h: 24, route: iv, start: "2026-05-10", indication: prophylaxis}'
    document = run(knowledge, case(NOT_DETECTED, course), site=NO_SITE)
    prophylaxis = decision(document, "antiviral-prophylaxis")
    assert not any("start now" in r for r in prophylaxis["reasons"])
    assert any(
        "ganciclovir (prophylaxis) running since 2026-05-10: give valganciclovir in its place, "
        "never beside it" in r
        for r in prophylaxis["reasons"]
    )


def test_a_running_option_of_the_setting_goes_on_never_doubled(knowledge: Knowledge) -> None:
    """Letermovir is one of kidney D+/R−'s two labelled options (debt22): it goes on as the
    drug it is, and valganciclovir is neither started beside it nor proposed in its place."""
    course = '  - {drug: letermovir, dose_mg: 480, every_h: 24, route: oral, start: "2026-05-10", indication: prophylaxis}'
    document = run(knowledge, case(NOT_DETECTED, course), site=NO_SITE)
    prophylaxis = decision(document, "antiviral-prophylaxis")
    assert not any("start now" in r or "in its place" in r for r in prophylaxis["reasons"])
    assert any("letermovir prophylaxis running since 2026-05-10" in r and "continued" in r for r in prophylaxis["reasons"])
    assert [r["drug"] for r in document["regimens"]] == ["letermovir"]


def test_dnaemia_without_a_course_is_never_left_without_monitoring(knowledge: Knowledge) -> None:
    # 90,000 IU/mL at day 89 and nothing running: the off-protocol episode (T8: no site
    # threshold → specialist review), never "no routine viral-load monitoring"
    document = run(knowledge, case(falling("1.25"), "  []"), site=NO_SITE)
    preemptive = decision(document, "preemptive-therapy")
    assert preemptive["outcome"] == "specialist_review"
    assert not any("no routine viral-load monitoring" in r for r in preemptive["reasons"])


def test_dnaemia_during_a_maintenance_course_of_another_drug_goes_to_a_specialist(
    knowledge: Knowledge,
) -> None:
    therapy = FOSCARNET.replace("INDICATION", ", indication: maintenance").replace(
        "every_h: 12", "every_h: 24"
    )
    document = run(knowledge, case(falling("1.25"), therapy), site=NO_SITE)
    assert decision(document, "antiviral-prophylaxis")["outcome"] == "specialist_review"
    preemptive = decision(document, "preemptive-therapy")
    assert preemptive["outcome"] == "specialist_review"
    assert not any("no routine viral-load monitoring" in r for r in preemptive["reasons"])
    assert {r["drug"] for r in document["regimens"]} <= {"foscarnet"}
    assert any(s["event"] == "viral-load" for s in document["schedule"])
