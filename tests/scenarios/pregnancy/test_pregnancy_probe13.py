"""probe13 (an outside obstetric probe of seed 000, the AIFA Law 648/96 valacyclovir protocol):
its safety findings rebuilt as vignettes on the design baseline (pregnancy_cases.py: LMP
2025-12-20, seroconversion IgG negative 2026-01-10 / positive 2026-02-20, creatinine 0.62 mg/dL,
eGFR 118; 20+1 = 2026-05-10, 24+0 = 2026-06-06, 26+0 = 2026-06-20, EDD 2026-09-26).

Expected answers, worked from the sources:
- S1: the seed's exclusions are "age below 12 years, creatinine values >1.1 and glomerular
  filtration <90 mL/minute" (Infez Med 2021 letter; rule A7). A patient on dialysis is in kidney
  failure (KDIGO G5: GFR < 15 or dialysis): excluded by the GFR criterion, dialysis named, even
  with a creatinine of 0.62 drawn between sessions (protocol.yaml exclusion_dialysis, I-4).
- S2: the valacyclovir label contraindicates it after hypersensitivity to valacyclovir or
  acyclovir (US PI §4; EU SmPC 4.3): a recorded acyclovir intolerance is a specialist's decision
  with a critical alert, exactly as a recorded valacyclovir intolerance (drug-intolerance).
- S3: an exclusion criterion that appears while a valacyclovir course runs means the course stops
  now; the exclusion is the reason (first, as "What to do now" shows it).
- S4: ACOG CO 700 redates by a scan only within its thresholds by GA (5 to 21 days): an LMP and an
  EDD more than 21 days apart (the widest threshold) cannot both date the pregnancy: insufficient
  data naming the dating ultrasound; the renal exclusions, which need no date, are still given.
- S5: the seed's Table 1 lists microcephaly only as a severe sign ("microcephaly <3SD"): a named
  microcephaly at -2.5 SD is in no row of the table: visible (alert) and left to a specialist.
- N4: "no fetal-blood abnormality" is said only when fetal blood was tested.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pregnancy_cases import AMNIO, BASELINE, case, run

from cmvcds.knowledge import Knowledge


def codes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["code"], a["severity"]) for a in doc["alerts"] if a["code"] != "unverified-fact"]


def outcomes(doc: dict[str, Any]) -> dict[str, str]:
    return {d["id"]: d["outcome"] for d in doc["decisions"]}


def stops(doc: dict[str, Any]) -> list[str]:
    return [s["earliest"] for s in doc["schedule"] if s["event"] == "stop-valacyclovir"]


# --- S1: dialysis is the GFR exclusion ---------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "said"),
    [("hemodialysis", "hemodialysis"), ("peritoneal", "peritoneal dialysis"),
     ("crrt", "continuous renal replacement therapy")],
)  # fmt: skip
def test_dialysis_excludes_and_is_named(knowledge: Knowledge, mode: str, said: str) -> None:
    raw = case(patient={**BASELINE["patient"], "dialysis": mode})
    doc = run(knowledge, raw)
    decision = doc["decisions"][0]
    assert decision["outcome"] == "excluded"
    assert decision["reasons"][0].startswith(f"On {said} (patient.dialysis): kidney failure")
    assert "< 90 mL/min" in decision["reasons"][0]
    assert doc["regimens"] == []
    assert ("renal-exclusion", "critical") in codes(doc)
    assert doc["findings"]["renal"]["dialysis"] == mode
    assert "exclusion_dialysis" not in decision["citations"]  # cited by its sources
    assert "cmvcds2026-pregnancy-interpretations" in decision["citations"]


def test_no_dialysis_is_the_baseline(knowledge: Knowledge) -> None:
    raw = case(patient={**BASELINE["patient"], "dialysis": "none"})
    assert outcomes(run(knowledge, raw)) == {"valacyclovir-prevention": "recommended"}


def test_dialysis_without_any_creatinine_still_excludes(knowledge: Knowledge) -> None:
    """Dialysis decides on its own: no creatinine or eGFR is asked for first."""
    observations = [o for o in BASELINE["observations"] if o["code"] not in ("creatinine", "egfr")]
    raw = case(
        patient={**BASELINE["patient"], "dialysis": "hemodialysis"}, observations=observations
    )
    doc = run(knowledge, raw)
    assert outcomes(doc) == {"valacyclovir-prevention": "excluded"}
    assert [m["item"] for m in doc["missing"]] == []


# --- S2: acyclovir hypersensitivity ------------------------------------------------------------


@pytest.mark.parametrize("listed", ["valacyclovir", "acyclovir"])
def test_acyclovir_intolerance_is_a_specialist_decision(knowledge: Knowledge, listed: str) -> None:
    raw = case(patient={**BASELINE["patient"], "intolerances": [listed]})
    doc = run(knowledge, raw)
    assert outcomes(doc) == {"valacyclovir-prevention": "specialist_review"}
    assert ("drug-intolerance", "critical") in codes(doc)
    assert doc["regimens"] == []
    assert any(listed in r for r in doc["decisions"][0]["reasons"])
    assert "changes no decision" not in str(doc)


def test_unrelated_intolerance_changes_nothing(knowledge: Knowledge) -> None:
    raw = case(patient={**BASELINE["patient"], "intolerances": ["foscarnet"]})
    assert outcomes(run(knowledge, raw)) == {"valacyclovir-prevention": "recommended"}


# --- S3: an exclusion during a running course: stop now -----------------------------------------

RUNNING = [{"drug": "valacyclovir", "start": "2026-03-02", "dose_mg": 2000, "every_h": 6}]


def rising(value: float, *, assessed: str = "2026-03-21") -> dict[str, Any]:
    """The baseline on valacyclovir since 2026-03-02 (10+2, no stop date); a creatinine of
    ``value`` mg/dL on 2026-03-20 (12+6), assessed 2026-03-21 (13+0)."""
    observations = [
        *copy.deepcopy(BASELINE["observations"]),
        {"date": "2026-03-20", "code": "creatinine", "value": value, "unit": "mg/dL"},
    ]
    return case(assessed_on=assessed, observations=observations, therapy=RUNNING)


def test_creatinine_rise_on_therapy_stops_it_now(knowledge: Knowledge) -> None:
    doc = run(knowledge, rising(1.4))
    decision = doc["decisions"][0]
    assert decision["outcome"] == "excluded"
    assert (
        decision["reasons"][0]
        == "Creatinine 1.40 mg/dL on 2026-03-20 > 1.1 mg/dL: excluded (rule A7)."
    )
    first = doc["alerts"][0]
    assert (first["code"], first["severity"]) == ("therapy-beyond-evidence", "critical")
    assert first["message"].startswith("Stop valacyclovir now")
    assert "started on 2026-03-02 (recorded with no stop date)" in first["message"]
    assert "Creatinine 1.40 mg/dL" in first["message"]
    assert stops(doc) == ["2026-03-21"]


def test_creatinine_at_the_limit_on_therapy_does_not_stop_it(knowledge: Knowledge) -> None:
    """> 1.1 as printed: 1.1 itself does not exclude (the eGFR 118 of 02-20 is older than the
    creatinine of 03-20, so the GFR is asked for: insufficient data, not a stop)."""
    doc = run(knowledge, rising(1.1))
    assert outcomes(doc) == {"valacyclovir-prevention": "insufficient_data"}
    assert "therapy-beyond-evidence" not in [c for c, _ in codes(doc)]
    assert stops(doc) == []


def test_dialysis_on_therapy_stops_it_now(knowledge: Knowledge) -> None:
    raw = case(
        assessed_on="2026-03-21",
        therapy=RUNNING,
        patient={**BASELINE["patient"], "dialysis": "hemodialysis"},
    )
    doc = run(knowledge, raw)
    assert outcomes(doc) == {"valacyclovir-prevention": "excluded"}
    assert doc["alerts"][0]["message"].startswith("Stop valacyclovir now")
    assert "On hemodialysis" in doc["alerts"][0]["message"]
    assert stops(doc) == ["2026-03-21"]


def test_a_stopped_course_is_not_told_to_stop(knowledge: Knowledge) -> None:
    raw = rising(1.4)
    raw["therapy"] = [{**RUNNING[0], "stop": "2026-03-19"}]
    doc = run(knowledge, raw)
    assert outcomes(doc) == {"valacyclovir-prevention": "excluded"}
    assert stops(doc) == []


def in_utero(creatinine: float) -> dict[str, Any]:
    """In-utero treatment since 2026-05-20 (AF+ reported 05-19, hepatomegaly on 05-19); a
    creatinine of ``creatinine`` on 2026-06-10 (24+4), assessed 2026-06-11."""
    observations = [
        *copy.deepcopy(BASELINE["observations"]),
        AMNIO,
        {"date": "2026-06-10", "code": "creatinine", "value": creatinine, "unit": "mg/dL"},
    ]
    return case(
        assessed_on="2026-06-11",
        observations=observations,
        ultrasound=[{"date": "2026-05-19", "findings": ["hepatomegaly"]}],
        therapy=[{"drug": "valacyclovir", "start": "2026-05-20", "dose_mg": 2000, "every_h": 6,
                  "indication": "fetal-treatment"}],
    )  # fmt: skip


def test_in_utero_treatment_creatinine_rise_stops_it_now(knowledge: Knowledge) -> None:
    doc = run(knowledge, in_utero(1.5))
    fetal = doc["decisions"][1]
    assert (fetal["id"], fetal["outcome"]) == ("valacyclovir-fetal-treatment", "excluded")
    assert (
        fetal["reasons"][0]
        == "Creatinine 1.50 mg/dL on 2026-06-10 > 1.1 mg/dL: excluded (rule A7)."
    )
    assert doc["alerts"][0]["message"].startswith("Stop valacyclovir now")
    assert "2026-06-11" in stops(doc)


def test_severe_sign_on_a_running_course_is_the_specialists_decision(
    knowledge: Knowledge,
) -> None:
    """fixr23b (review of this fix): seed 000 excludes a severe sign from *starting* in-utero
    treatment and says nothing of stopping one; a course started after the positive result is
    in-utero treatment: not stopped automatically, a critical alert naming the sign."""
    raw = in_utero(0.6)
    raw["ultrasound"] = [{"date": "2026-06-10", "findings": ["porencephaly"]}]
    doc = run(knowledge, raw)
    fetal = doc["decisions"][1]
    assert fetal["outcome"] == "specialist_review"
    assert any("porencephaly" in r and "not stopped automatically" in r for r in fetal["reasons"])
    first = doc["alerts"][0]
    assert (first["code"], first["severity"]) == ("outside-evidence-base", "critical")
    assert "porencephaly" in first["message"] and "specialist" in first["message"]
    assert "2026-06-11" not in stops(doc)
    assert not any(a["message"].startswith("Stop valacyclovir now") for a in doc["alerts"])


# --- S4: contradictory dating ---------------------------------------------------------------


def dated(edd: str) -> dict[str, Any]:
    """The baseline's LMP 2025-12-20 implies EDD 2026-09-26 (Naegele, + 280 days)."""
    return case(pregnancy={"edd": edd})


def test_lmp_and_edd_53_days_apart_is_insufficient_data(knowledge: Knowledge) -> None:
    doc = run(knowledge, dated("2026-11-18"))  # the EDD implies LMP 2026-02-11: 53 days later
    assert outcomes(doc) == {"valacyclovir-prevention": "insufficient_data"}
    assert [m["item"] for m in doc["missing"]] == ["pregnancy.dating"]
    assert "crown-rump length" in doc["missing"][0]["why"]
    assert "53 days (> 21" in doc["missing"][0]["why"]
    assert ("contradictory-input", "warning") in codes(doc)
    assert doc["regimens"] == [] and doc["schedule"] == []
    assert "key_dates" not in doc["findings"]
    # what does not depend on the dates is still given
    assert doc["findings"]["renal"]["creatinine_mg_dl"] == 0.62


@pytest.mark.parametrize(("edd", "contradiction"), [("2026-10-17", False), ("2026-10-18", True)])
def test_lmp_and_edd_boundary_is_the_widest_acog_threshold(
    knowledge: Knowledge, edd: str, contradiction: bool
) -> None:
    """21 days apart is still within the widest ACOG redating threshold (> 21 days at >= 28+0):
    the EDD wins with a warning; 22 days apart is a contradiction."""
    doc = run(knowledge, dated(edd))
    if contradiction:
        assert outcomes(doc) == {"valacyclovir-prevention": "insufficient_data"}
    else:
        assert doc["findings"]["dating"]["basis"] == "EDD"
        assert ("boundary-case", "warning") in codes(doc)
        assert "pregnancy.dating" not in [m["item"] for m in doc["missing"]]


def test_scan_contradicting_the_edd_beyond_its_threshold(knowledge: Knowledge) -> None:
    """A scan at 9+0 on 2026-02-21 implies LMP 2025-12-20; the EDD 2026-10-05 implies LMP
    2025-12-29: 9 days > 7 (ACOG, 9+0 to 13+6)."""
    raw = case(pregnancy={"lmp": None, "edd": "2026-10-05",
                          "dating": {"date": "2026-02-21", "gestational_age": "9+0"}})  # fmt: skip
    doc = run(knowledge, raw)
    assert outcomes(doc) == {"valacyclovir-prevention": "insufficient_data"}
    assert "9 days (> 7" in doc["missing"][0]["why"]


def test_scan_redating_within_the_rules_still_decides(knowledge: Knowledge) -> None:
    """LMP 2025-12-20, scan at 7+0 on 2026-02-27 (implies LMP 2026-01-09): 20 days > 5: redated
    by the scan (ACOG CO 700), a decision is given (probe13's V36)."""
    raw = case(pregnancy={"dating": {"date": "2026-02-27", "gestational_age": "7+0"}})
    doc = run(knowledge, raw)
    assert doc["findings"]["dating"]["basis"].startswith("dating scan (redated")
    assert outcomes(doc)["valacyclovir-prevention"] != "insufficient_data"


# --- S5: a named fetal finding outside Table 1 ---------------------------------------------------


def af_positive(findings: list[str], **scan: Any) -> dict[str, Any]:
    observations = [*copy.deepcopy(BASELINE["observations"]), AMNIO]
    return case(
        assessed_on="2026-05-20",
        observations=observations,
        ultrasound=[{"date": "2026-05-19", "findings": findings, **scan}],
    )


@pytest.mark.parametrize(
    ("sd", "outcome"),
    [(-2.5, "specialist_review"), (-3.0, "specialist_review"), (-3.1, "excluded")],
)
def test_named_microcephaly_is_never_dropped(knowledge: Knowledge, sd: float, outcome: str) -> None:
    """Table 1: 'microcephaly <3SD' is severe (read as < -3 SD); -3.0 is not below it."""
    doc = run(knowledge, af_positive(["hepatomegaly", "microcephaly"], head_circumference_sd=sd))
    fetal = doc["decisions"][1]
    assert fetal["outcome"] == outcome
    if outcome == "specialist_review":
        assert any("microcephaly" in r for r in fetal["reasons"])
        assert ("boundary-case", "warning") in codes(doc)
        signs = doc["findings"]["fetal_signs"]["fetus"]
        assert signs["outside_table"][0].startswith(f"microcephaly (head circumference {sd} SD)")
        assert doc["regimens"] == []


# --- N4: fetal blood not tested ---------------------------------------------------------------


def test_no_sign_without_fetal_blood_says_not_tested(knowledge: Knowledge) -> None:
    doc = run(knowledge, af_positive([]))
    fetal = doc["decisions"][1]
    assert fetal["outcome"] == "excluded"
    assert "fetal blood not tested" in fetal["reasons"][0]
    assert "no fetal-blood abnormality" not in fetal["reasons"][0]
    assert "fetal_blood" in [m["item"] for m in doc["missing"]]


def test_no_sign_with_normal_fetal_blood_says_no_abnormality(knowledge: Knowledge) -> None:
    raw = af_positive([])
    raw["observations"].append(
        {"date": "2026-05-19", "code": "platelets", "specimen": "fetal_blood", "value": 150000,
         "unit": "/mm3"}
    )  # fmt: skip
    fetal = run(knowledge, raw)["decisions"][1]
    assert fetal["outcome"] == "excluded"
    assert "no fetal-blood abnormality" in fetal["reasons"][0]


# --- S1: every patient input of the pregnancy form is read or said unread -------------------------


def test_cannot_take_oral_is_a_specialist_decision(knowledge: Knowledge) -> None:
    """The protocol's valacyclovir is 2 g tablets every 6 hours by mouth: no other route."""
    doc = run(knowledge, case(patient={**BASELINE["patient"], "can_take_oral": False}))
    decision = doc["decisions"][0]
    assert decision["outcome"] == "specialist_review"
    assert any("cannot take oral medication" in r for r in decision["reasons"])
    assert doc["regimens"] == []


def test_can_take_oral_true_is_the_baseline(knowledge: Knowledge) -> None:
    doc = run(knowledge, case(patient={**BASELINE["patient"], "can_take_oral": True}))
    assert outcomes(doc) == {"valacyclovir-prevention": "recommended"}


@pytest.mark.parametrize(
    ("weight", "height", "flagged"), [(150, 120, True), (86.4, 120, False), (86.5, 120, True)]
)
def test_implausible_body_mass_index_is_named(
    knowledge: Knowledge, weight: float, height: int, flagged: bool
) -> None:
    """plausibility.computed_crcl.obese_bmi_max = 60: 86.4 kg at 120 cm is BMI 60.0 (not above),
    86.5 kg is 60.07; 150 kg at 120 cm is 104.2. The protocol dose does not change (A3)."""
    doc = run(
        knowledge, case(patient={**BASELINE["patient"], "weight_kg": weight, "height_cm": height})
    )
    assert (("implausible-input", "warning") in codes(doc)) is flagged
    assert outcomes(doc) == {"valacyclovir-prevention": "recommended"}


def test_inputs_no_pregnancy_rule_reads_are_named(knowledge: Knowledge) -> None:
    doc = run(knowledge, case(patient={**BASELINE["patient"], "icu": True, "child_pugh": "A"}))
    assert doc["findings"]["inputs_not_read"].startswith("patient.icu, patient.child_pugh:")
    assert "inputs_not_read" not in run(knowledge, BASELINE)["findings"]


# --- N5: the adult CKD-EPI equation is not used under 18 ----------------------------------------


@pytest.mark.parametrize(("age", "outcome"), [(11, "excluded"), (12, "insufficient_data"),
                                              (17, "insufficient_data"), (18, "recommended")])  # fmt: skip
def test_ckd_epi_is_not_computed_under_18(knowledge: Knowledge, age: int, outcome: str) -> None:
    """Seed 000: age below 12 excludes. CKD-EPI 2021 (Inker 2021) is an adult equation: at 12-17
    the creatinine alone cannot clear the GFR criterion; the laboratory's GFR is asked for."""
    observations = [o for o in BASELINE["observations"] if o["code"] != "egfr"]
    # no height: under 18 the bedside Schwartz estimate cannot be computed either (fixr23b)
    patient = {k: v for k, v in BASELINE["patient"].items() if k not in ("birth_date", "height_cm")}
    doc = run(knowledge, case(patient={**patient, "age_years": age}, observations=observations))
    assert outcomes(doc) == {"valacyclovir-prevention": outcome}
    if outcome == "insufficient_data":
        why = next(m["why"] for m in doc["missing"] if m["item"] == "egfr")
        assert "adult equation" in why
        assert "egfr" not in doc["findings"]["renal"]


# --- N6: past the EDD -----------------------------------------------------------------------------


def test_in_utero_treatment_past_the_edd_says_so(knowledge: Knowledge) -> None:
    """EDD 2026-09-26; assessed 2026-10-03 (41+0)."""
    raw = af_positive(["hepatomegaly"])
    raw["assessed_on"] = "2026-10-03"
    doc = run(knowledge, raw)
    fetal = doc["decisions"][1]
    assert fetal["outcome"] == "recommended"
    assert doc["regimens"][0]["stop"] is None
    assert any(r.startswith("Past the EDD (2026-09-26; 41+0 today)") for r in fetal["reasons"])


# --- N2: INN spellings --------------------------------------------------------------------------


@pytest.mark.parametrize(("inn", "usan"), [("aciclovir", "acyclovir"), ("valaciclovir", "valacyclovir"),
                                           ("Valaciclovir", "valacyclovir")])  # fmt: skip
def test_inn_spellings_are_the_same_drug(knowledge: Knowledge, inn: str, usan: str) -> None:
    """The WHO INN (valaciclovir, aciclovir; the Italian page itself writes 'valaciclovir') is the
    drug the case format spells valacyclovir/acyclovir (vocabularies.yaml drug_synonyms)."""
    by_inn = run(knowledge, case(patient={**BASELINE["patient"], "intolerances": [inn]}))
    by_usan = run(knowledge, case(patient={**BASELINE["patient"], "intolerances": [usan]}))
    assert outcomes(by_inn) == outcomes(by_usan) == {"valacyclovir-prevention": "specialist_review"}
    # a running course recorded under the INN is the valacyclovir course the exclusion stops
    raw = rising(1.4)
    raw["therapy"] = [{**RUNNING[0], "drug": inn}]
    if usan == "valacyclovir":
        assert stops(run(knowledge, raw)) == ["2026-03-21"]


def test_inn_valaciclovir_doses_on_the_dose_calculator(knowledge: Knowledge) -> None:
    from cmvcds.engine.dosing.recommend import drug_label

    assert drug_label(knowledge, "valaciclovir").drug == "valacyclovir"


# --- N3: an avidity value without its category ----------------------------------------------------


def avidity_value_only(*, seroconversion: bool) -> dict[str, Any]:
    rows = [o for o in copy.deepcopy(BASELINE["observations"]) if o["code"] != "cmv_igg_avidity"]
    if not seroconversion:
        rows = [o for o in rows if not (o["code"] == "cmv_igg" and o["result"] == "negative")]
    rows.append({"date": "2026-02-20", "code": "cmv_igg_avidity", "value": 20, "unit": "%"})
    return case(observations=rows)


def test_avidity_value_without_category_asks_for_the_category(knowledge: Knowledge) -> None:
    """IgG and IgM positive, avidity 20 % without a category: criteria (b)/(c) need the category,
    and the assay's cut-offs are not known: the category is asked for, not 'the avidity'."""
    doc = run(knowledge, avidity_value_only(seroconversion=False))
    decision = doc["decisions"][0]
    assert decision["outcome"] == "insufficient_data"
    assert [m["item"] for m in doc["missing"]] == ["cmv_igg_avidity.result"]
    assert "IgG avidity 20 % on 2026-02-20" in doc["missing"][0]["why"]
    assert "without IgG avidity" not in " ".join(decision["reasons"])


def test_avidity_value_beside_a_seroconversion_is_named(knowledge: Knowledge) -> None:
    doc = run(knowledge, avidity_value_only(seroconversion=True))
    decision = doc["decisions"][0]
    assert decision["outcome"] == "recommended"  # criterion (a) does not need the avidity
    assert any("IgG avidity 20 %" in r for r in decision["reasons"])


def test_observations_and_courses_no_pregnancy_rule_reads_are_named(knowledge: Knowledge) -> None:
    """Maternal ALT and platelets (AIFA Table 2 monitoring is not transcribed), a drug level's
    hours after dose, and a ganciclovir course: named as not read, never dropped silently."""
    observations = [
        *copy.deepcopy(BASELINE["observations"]),
        {"date": "2026-02-20", "code": "alt", "value": 30, "unit": "U/L"},
        {"date": "2026-02-20", "code": "platelets", "value": 250, "unit": "10^9/L"},
        {"date": "2026-02-20", "code": "weight", "value": 64, "unit": "kg"},
    ]
    therapy = [{"drug": "ganciclovir", "start": "2026-01-02", "stop": "2026-01-05"}]
    doc = run(knowledge, case(observations=observations, therapy=therapy))
    said = doc["findings"]["inputs_not_read"]
    assert said.startswith("observations alt, observations platelets/blood, therapy ganciclovir:")
    assert "weight" not in said  # read: the body-mass index plausibility
    assert outcomes(doc) == {"valacyclovir-prevention": "recommended"}


def test_fetal_blood_platelets_are_read(knowledge: Knowledge) -> None:
    raw = af_positive([])
    raw["observations"].append(
        {"date": "2026-05-19", "code": "platelets", "specimen": "fetal_blood", "value": 90000,
         "unit": "/mm3"}
    )  # fmt: skip
    doc = run(knowledge, raw)
    assert "inputs_not_read" not in doc["findings"]
    assert outcomes(doc)["valacyclovir-fetal-treatment"] == "recommended"


def test_contradictory_dating_still_gives_the_fetal_decision(knowledge: Knowledge) -> None:
    """S4, "still give every part not depending on dates": AF+ with hepatomegaly decides
    in-utero treatment (A6) whatever the dating; only the EDD (a planned stop, monitoring dates)
    is withheld."""
    raw = af_positive(["hepatomegaly"])
    raw["pregnancy"]["edd"] = "2026-11-18"  # 53 days after the LMP's EDD
    doc = run(knowledge, raw)
    assert outcomes(doc) == {
        "valacyclovir-prevention": "insufficient_data",
        "valacyclovir-fetal-treatment": "recommended",
    }
    regimen = doc["regimens"][0]
    assert (regimen["dose_mg"], regimen["every_h"], regimen["stop"]) == (2000, 6, None)
    assert "the dating is contradictory" in regimen["stop_rule"]
    assert [m["item"] for m in doc["missing"]] == ["pregnancy.dating"]
