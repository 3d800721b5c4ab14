"""Vignettes of the clinical safety review of 2026-11-21 (M1, M2, M7, M9, M10, M11 and the minor
stop-date findings), each the reviewer's reproducer with its whole expected answer.

``basep`` is the reviewer's BASEP: examples/pregnancy.yaml with an undated diagnosis (IgG and IgM
positive, low avidity on 2026-02-20 = 8+6), creatinine 0.62 mg/dL and eGFR 118 on 2026-02-20.
LMP 2025-12-20: periconceptional window from 2025-12-13 (LMP - 7 d), 20+1 = 2026-05-10,
24+0 = 2026-06-06, 26+0 = 2026-06-20. An undated onset always carries one ``boundary-case``
alert (a preconceptional onset cannot be excluded, I-2.3; M9).
"""

from __future__ import annotations

from typing import Any

import pytest
from pregnancy_cases import BASELINE, EDD, case, expected, run, summary

from cmvcds.knowledge import Knowledge

DIAGNOSIS = "2026-02-20"
SEROLOGY = [
    {"date": DIAGNOSIS, "code": "cmv_igg", "result": "positive"},
    {"date": DIAGNOSIS, "code": "cmv_igm", "result": "positive"},
    {"date": DIAGNOSIS, "code": "cmv_igg_avidity", "result": "low"},
]
CREATININE = {"date": DIAGNOSIS, "code": "creatinine", "value": 0.62, "unit": "mg/dL"}
EGFR = {"date": DIAGNOSIS, "code": "egfr", "value": 118, "unit": "mL/min/1.73m2"}
UNDATED = {
    "status": "primary",
    "criterion": "igg-igm-low-avidity",
    "onset_window": [None, DIAGNOSIS],
    "timing": "first trimester or earlier",
}
RUNNING = [
    {"drug": "valacyclovir", "dose_mg": 2000, "every_h": 6, "route": "oral", "start": "2026-03-02"}
]
INSUFFICIENT = {"valacyclovir-prevention": "insufficient_data"}


def basep(
    *extra: dict[str, Any], renal: tuple[dict[str, Any], ...] = (CREATININE, EGFR), **changes: Any
) -> dict[str, Any]:
    return case(observations=[*SEROLOGY, *renal, *extra], ultrasound=[], **changes)


def undated(**changes: Any) -> dict[str, Any]:
    """The expected answer of BASEP assessed on 2026-03-02 (10+2)."""
    base: dict[str, Any] = {"infection": UNDATED, "alerts": ["boundary-case"]}
    return expected(**{**base, **changes})


def messages(doc: dict[str, Any], code: str) -> list[str]:
    return [a["message"] for a in doc["alerts"] if a["code"] == code]


def test_basep(knowledge: Knowledge) -> None:
    doc = run(knowledge, basep())
    assert summary(doc) == undated()
    assert messages(doc, "boundary-case") == [
        "Onset on or before 2026-02-20 (8+6): a preconceptional onset (before the periconceptional window, "
        "which starts on 2025-12-13) cannot be excluded. It counts as within the window (I-2.3) and prevention "
        "is indicated; a preconceptional infection would be outside the indication (A2). Review the dating with "
        "the specialist (earlier stored samples, avidity, symptoms)."
    ]


# --- M1: contradictory serology (I-9) ---------------------------------------------------------

NOT_CLASSIFIED = expected(infection={"status": "insufficient_data"}, decisions=INSUFFICIENT, regimens=[],
                          amniocentesis=[], stop=[], alerts=["assay-mismatch"], missing=["cmv_igg"])  # fmt: skip


def test_p23_igg_negative_and_positive_on_the_same_day(knowledge: Knowledge) -> None:
    doc = run(knowledge, basep({"date": DIAGNOSIS, "code": "cmv_igg", "result": "negative"}))
    assert summary(doc) == NOT_CLASSIFIED
    decision = doc["decisions"][0]
    assert decision["reasons"] == [
        "Contradictory CMV serology: CMV IgG both negative and positive on 2026-02-20; the maternal "
        "infection cannot be classified (I-9)."
    ]
    assert decision["rules"] == ["A1", "I-9"]
    assert doc["missing"][0]["why"].endswith(
        "repeat CMV IgG, IgM and IgG avidity in the same laboratory, testing the earlier stored sample "
        "in parallel with a new one, before the maternal infection is classified (I-9)"
    )


def test_p24_reverse_seroconversion(knowledge: Knowledge) -> None:
    # IgG/IgM positive, low avidity on 2026-01-10, IgG negative on 2026-02-20: IgG cannot vanish.
    first = [{**o, "date": "2026-01-10"} for o in (*SEROLOGY, CREATININE, EGFR)]
    raw = case(
        observations=[*first, {"date": DIAGNOSIS, "code": "cmv_igg", "result": "negative"}],
        ultrasound=[],
    )
    doc = run(knowledge, raw)
    assert summary(doc) == NOT_CLASSIFIED
    assert messages(doc, "assay-mismatch")[0].startswith(
        "Contradictory CMV serology: CMV IgG positive on 2026-01-10 but negative on 2026-02-20 "
        "(reverse seroconversion)."
    )


def test_igm_negative_and_positive_on_the_same_day(knowledge: Knowledge) -> None:
    doc = run(knowledge, basep({"date": DIAGNOSIS, "code": "cmv_igm", "result": "negative"}))
    assert summary(doc) == {**NOT_CLASSIFIED, "missing": ["cmv_igm"]}


def test_igm_falling_after_a_positive_is_not_a_contradiction(knowledge: Knowledge) -> None:
    # IgM becomes negative weeks after a primary infection; only IgG may not disappear.
    doc = run(knowledge, basep({"date": "2026-03-01", "code": "cmv_igm", "result": "negative"}))
    assert summary(doc) == undated()


# --- M2: twins (I-10) -------------------------------------------------------------------------


def amnio(result: str, fetus: int | None = None) -> dict[str, Any]:
    row = {"date": "2026-05-12", "code": "cmv_dna", "specimen": "amniotic_fluid", "result": result,
           "reported": "2026-05-19"}  # fmt: skip
    return {**row, "fetus": fetus} if fetus else row


TWIN_SCANS = [
    {"date": "2026-05-19", "fetus": 1, "findings": ["hepatomegaly"]},
    {"date": "2026-05-19", "fetus": 2, "findings": []},
]


def twins(*amnios: dict[str, Any], scans: list[dict[str, Any]] = TWIN_SCANS) -> dict[str, Any]:
    return case(observations=[*SEROLOGY, CREATININE, EGFR, *amnios], ultrasound=scans,
                assessed_on="2026-05-20", pregnancy={"fetuses": 2}, therapy=RUNNING)  # fmt: skip


def twin_answer(fetal: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ga": "21+4", "infection": UNDATED, "regimens": [], "amniocentesis": [], "stop": ["2026-05-19"],
        "decisions": {"valacyclovir-prevention": "not_indicated", "valacyclovir-fetal-treatment": fetal},
        "alerts": ["boundary-case"],
    }  # fmt: skip
    return expected(**{**base, **changes})


def test_p15c_untagged_twin_results_leave_fetal_treatment_open(knowledge: Knowledge) -> None:
    # One detected and one not detected, neither naming its fetus: the positive one stops the
    # prevention course (A5), but which twin is infected, and so which signs count, is unknown.
    doc = run(knowledge, twins(amnio("detected"), amnio("not_detected")))
    assert summary(doc) == twin_answer(
        "insufficient_data", missing=["cmv_dna (amniotic fluid).fetus"]
    )
    assert doc["decisions"][1]["reasons"][-1] == (
        "Multiple pregnancy (2 fetuses): the positive amniotic-fluid result names no fetus, so the infected "
        "fetus and its Table 1 signs cannot be identified (I-10)."
    )
    assert doc["missing"][0]["why"].startswith(
        "multiple pregnancy (2 fetuses): say which fetus (sac) each amniotic-fluid result belongs to"
    )


def test_p15_discordant_twins_test_the_negative_twin_at_birth(knowledge: Knowledge) -> None:
    # Fetus 1 infected with hepatomegaly: in-utero treatment from the assessment day; fetus 2
    # negative: late transmission remains possible, newborn 2 is tested at birth.
    doc = run(knowledge, twins(amnio("detected", 1), amnio("not_detected", 2)))
    assert summary(doc) == twin_answer(
        "recommended",
        regimens=[("fetal-treatment", 2000, 6, "2026-05-20", EDD)],
        alerts=["boundary-case", "late-transmission-possible"],
    )
    assert messages(doc, "late-transmission-possible") == [
        "Negative amniocentesis for fetus 2 (amniotic-fluid CMV PCR negative (fetus 2), reported 2026-05-19): "
        "late transmission after it remains possible; test newborn 2 at birth (urine or saliva CMV PCR within "
        "the first 3 weeks of life)."
    ]
    assert doc["findings"]["fetal_signs"] == {
        "fetus 1": {"ultrasound": "2026-05-19", "extracerebral": ["hepatomegaly"]}
    }
    assert "I-10" in doc["decisions"][1]["rules"]


def test_untagged_twin_ultrasound_cannot_be_attributed(knowledge: Knowledge) -> None:
    # Fetus 1 infected; the only ultrasound with findings names no fetus.
    scans = [{"date": "2026-05-19", "findings": ["hepatomegaly"]}]
    doc = run(knowledge, twins(amnio("detected", 1), amnio("not_detected", 2), scans=scans))
    assert summary(doc) == twin_answer(
        "insufficient_data",
        alerts=["boundary-case", "late-transmission-possible"],
        missing=["ultrasound.fetus"],
    )


def test_one_twin_negative_does_not_end_the_course(knowledge: Knowledge) -> None:
    # Design case (seroconversion), twins, fetus 1 negative and fetus 2 not sampled, assessed 21+4:
    # the course goes on (until fetus 2's result or 26+0), fetus 2's amniocentesis is still due.
    raw = case(assessed_on="2026-05-20", pregnancy={"fetuses": 2},
               observations=[*BASELINE["observations"], amnio("not_detected", 1)])  # fmt: skip
    assert summary(run(knowledge, raw)) == expected(
        ga="21+4",
        decisions={"valacyclovir-prevention": "recommended", "valacyclovir-fetal-treatment": "not_indicated"},
        regimens=[("pregnancy-prevention", 2000, 6, "2026-05-20", "2026-06-20")],
        alerts=["late-transmission-possible"],
    )  # fmt: skip


def test_both_twins_negative_end_the_course(knowledge: Knowledge) -> None:
    raw = case(assessed_on="2026-05-20", pregnancy={"fetuses": 2},
               observations=[*BASELINE["observations"], amnio("not_detected", 1), amnio("not_detected", 2)])  # fmt: skip
    assert summary(run(knowledge, raw)) == expected(
        ga="21+4",
        decisions={"valacyclovir-prevention": "not_indicated", "valacyclovir-fetal-treatment": "not_indicated"},
        regimens=[], amniocentesis=[], stop=["2026-05-19"],
        alerts=["late-transmission-possible", "late-transmission-possible"],
    )  # fmt: skip


# --- M9: the lower boundary of the onset window (I-2) -----------------------------------------


def test_p25_undated_first_positive_at_1_3(knowledge: Knowledge) -> None:
    # First positive 2025-12-30 (1+3), assessed 2026-01-05 (2+2): inside the window, so within it
    # by I-2.3, flagged. Amniocentesis: 2025-12-30 + 56 d = 2026-02-24, before 20+1 → 2026-05-10.
    rows = [{**o, "date": "2025-12-30"} for o in (*SEROLOGY, CREATININE, EGFR)]
    doc = run(knowledge, case(observations=rows, ultrasound=[], assessed_on="2026-01-05"))
    assert summary(doc) == expected(
        ga="2+2",
        infection={
            **UNDATED,
            "onset_window": [None, "2025-12-30"],
            "timing": "periconceptional or earlier",
        },
        regimens=[("pregnancy-prevention", 2000, 6, "2026-01-05", "2026-06-20")],
        alerts=["boundary-case"],
    )
    assert messages(doc, "boundary-case")[0].startswith(
        "Onset on or before 2025-12-30 (1+3): a preconceptional onset (before the periconceptional window, "
        "which starts on 2025-12-13) cannot be excluded."
    )


def test_undated_first_positive_before_the_window_is_preconceptional(knowledge: Knowledge) -> None:
    # First positive 2025-12-12 = LMP - 8 d, one day before the window: preconceptional.
    rows = [{**o, "date": "2025-12-12"} for o in SEROLOGY] + [
        {**o, "date": "2025-12-30"} for o in (CREATININE, EGFR)
    ]
    doc = run(knowledge, case(observations=rows, ultrasound=[], assessed_on="2026-01-05"))
    assert summary(doc) == expected(
        ga="2+2",
        infection={**UNDATED, "onset_window": [None, "2025-12-12"], "timing": "preconceptional or earlier"},
        decisions={"valacyclovir-prevention": "not_indicated"}, regimens=[], amniocentesis=[], stop=[],
    )  # fmt: skip


def test_p26_seroconversion_straddling_the_window_start(knowledge: Knowledge) -> None:
    # IgG negative 2025-09-01, positive 2026-01-10 (3+0): onset in (2025-09-01, 2026-01-10], which
    # begins before 2025-12-13; the same answer as an undated onset with that first positive.
    rows = [
        {"date": "2025-09-01", "code": "cmv_igg", "result": "negative"},
        *({**o, "date": "2026-01-10"} for o in (*SEROLOGY, CREATININE, EGFR)),
    ]
    doc = run(knowledge, case(observations=rows, ultrasound=[], assessed_on="2026-01-12"))
    assert summary(doc) == expected(
        ga="3+2",
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2025-09-02", "2026-01-10"], "timing": "preconceptional to periconceptional"},
        regimens=[("pregnancy-prevention", 2000, 6, "2026-01-12", "2026-06-20")],
        alerts=["boundary-case"],
    )  # fmt: skip
    assert messages(doc, "boundary-case")[0].startswith(
        "Onset between 2025-09-02 (109 days before the LMP) and 2026-01-10 (3+0): a preconceptional onset"
    )


# --- M10: a course still running after 26+0 ---------------------------------------------------


def test_p28_course_still_running_at_26_5(knowledge: Knowledge) -> None:
    doc = run(knowledge, basep(assessed_on="2026-06-25", therapy=RUNNING))
    assert summary(doc) == undated(
        ga="26+5", decisions={"valacyclovir-prevention": "not_indicated"}, regimens=[],
        alerts=["boundary-case", "therapy-beyond-evidence"],
    )  # fmt: skip
    assert messages(doc, "therapy-beyond-evidence") == [
        "Valacyclovir (started 2026-03-02, recorded with no stop date) is still running on 2026-06-25 (26+5): "
        "the prevention course should have stopped on 2026-06-20 (26+0: 26+0 reached without an amniocentesis). "
        "Stop it now, unless in-utero treatment is decided (A5, I-3)."
    ]


def test_course_stopped_at_26_0_raises_no_alert(knowledge: Knowledge) -> None:
    stopped = [{**RUNNING[0], "stop": "2026-06-20"}]
    doc = run(knowledge, basep(assessed_on="2026-06-25", therapy=stopped))
    assert summary(doc) == undated(
        ga="26+5", decisions={"valacyclovir-prevention": "not_indicated"}, regimens=[]
    )


# --- M11: creatinine and the GFR criterion (I-4) ----------------------------------------------


def test_p07a_creatinine_1_1_without_egfr(knowledge: Knowledge) -> None:
    # Creatinine 1.1 is not > 1.1. CKD-EPI 2021 (female, 33 y) = 142 × (1.1/0.7)^-1.2 × 0.9938^33
    # × 1.012 = 142 × 0.5813 × 0.8145 × 1.012 ≈ 68.0 < 90: shown, never excludes; eGFR missing.
    creatinine = {**CREATININE, "value": 1.1}
    doc = run(knowledge, basep(renal=(creatinine,)))
    assert summary(doc) == undated(decisions=INSUFFICIENT, regimens=[], stop=[], missing=["egfr"])
    renal = doc["findings"]["renal"]
    assert renal["egfr_computed"] == pytest.approx(68.0, abs=0.15)
    assert "egfr" not in renal
    assert not messages(doc, "renal-exclusion")
    assert doc["missing"][0]["why"].startswith(
        "no GFR reported: report the laboratory's eGFR or a measured creatinine clearance "
        "(exclusion < 90 mL/min, rule A7); CKD-EPI 2021 from the creatinine gives 68 mL/min/1.73 m²"
    )


def test_p07e_creatinine_97_3_umol_excludes_and_reads_above_the_limit(knowledge: Knowledge) -> None:
    # 97.3 / 88.4 = 1.1007 mg/dL > 1.1: excluded on creatinine alone; printed 1.101, not 1.10.
    creatinine = {**CREATININE, "value": 97.3, "unit": "umol/L"}
    doc = run(knowledge, basep(renal=(creatinine,)))
    assert summary(doc) == undated(
        decisions={"valacyclovir-prevention": "excluded"}, regimens=[], stop=[],
        alerts=["boundary-case", "renal-exclusion"],
    )  # fmt: skip
    assert doc["findings"]["renal"]["creatinine_mg_dl"] == 1.101
    assert (
        "Creatinine 1.101 mg/dL (97.3 umol/L) on 2026-02-20 > 1.1 mg/dL: excluded (rule A7)."
        in (doc["decisions"][0]["reasons"])
    )


def test_creatinine_97_umol_reads_below_the_limit(knowledge: Knowledge) -> None:
    # 97 / 88.4 = 1.0973 mg/dL: printed 1.097 (1.10 would look like the limit itself).
    creatinine = {**CREATININE, "value": 97, "unit": "umol/L"}
    doc = run(knowledge, basep(renal=(creatinine, EGFR)))
    assert summary(doc) == undated()
    assert doc["findings"]["renal"]["creatinine_mg_dl"] == 1.097


def test_measured_clearance_below_90_excludes(knowledge: Knowledge) -> None:
    clearance = {
        "date": DIAGNOSIS,
        "code": "creatinine_clearance_24h",
        "value": 85,
        "unit": "mL/min",
    }
    doc = run(knowledge, basep(renal=(CREATININE, clearance)))
    assert summary(doc) == undated(
        decisions={"valacyclovir-prevention": "excluded"}, regimens=[], stop=[],
        alerts=["boundary-case", "renal-exclusion"],
    )  # fmt: skip
    assert (
        doc["findings"]["renal"]["egfr_method"]
        == "Measured creatinine clearance, reported on 2026-02-20"
    )


# --- M7: the baseline renal function belongs to this pregnancy (I-11) -------------------------


def test_p30_creatinine_from_before_the_pregnancy(knowledge: Knowledge) -> None:
    stale = tuple({**o, "date": "2025-01-10"} for o in (CREATININE, EGFR))
    doc = run(knowledge, basep(renal=stale))
    assert summary(doc) == undated(
        decisions=INSUFFICIENT, regimens=[], stop=[], missing=["creatinine", "egfr"]
    )
    assert [m["why"].split(":")[0] for m in doc["missing"]] == [
        "the latest creatinine (2025-01-10) predates this pregnancy (LMP 2025-12-20)",
        "the latest GFR (2025-01-10) predates this pregnancy (LMP 2025-12-20)",
    ]


@pytest.mark.parametrize(("day", "counts"), [("2025-12-20", True), ("2025-12-19", False)])
def test_baseline_measured_on_the_lmp_counts(knowledge: Knowledge, day: str, counts: bool) -> None:
    renal = tuple({**o, "date": day} for o in (CREATININE, EGFR))
    want = (
        undated()
        if counts
        else undated(decisions=INSUFFICIENT, regimens=[], stop=[], missing=["creatinine", "egfr"])
    )
    assert summary(run(knowledge, basep(renal=renal))) == want


# --- minor: the stop date and its rule --------------------------------------------------------


@pytest.mark.parametrize(
    ("booked", "rule"),
    [
        ("2026-05-10", "when the result of the amniocentesis booked for 2026-05-10 is reported (negative: stop; "
                       "positive: stop and assess in-utero treatment), at the latest at 26+0 (2026-06-20) (A5, I-3)"),
        ("2026-06-25", "26+0 (2026-06-20): the amniocentesis booked for 2026-06-25 is after this stop date, so its "
                       "result cannot end the course earlier (A5, I-3)"),
    ],
)  # fmt: skip
def test_p11b_booked_amniocentesis_keeps_the_26_0_stop(
    knowledge: Knowledge, booked: str, rule: str
) -> None:
    doc = run(knowledge, basep(pregnancy={"amniocentesis_booked": booked}))
    assert summary(doc) == undated()
    assert doc["regimens"][0]["stop_rule"] == rule


def test_p01_amniocentesis_cannot_come_before_26_0(knowledge: Knowledge) -> None:
    # Symptom onset 2026-06-05 (23+6): earliest amniocentesis 2026-07-31, after 26+0 (2026-06-20).
    rows = [{**o, "date": "2026-06-10"} for o in (*SEROLOGY, CREATININE, EGFR)]
    raw = case(
        observations=rows,
        ultrasound=[],
        assessed_on="2026-06-12",
        pregnancy={"symptom_onset": "2026-06-05"},
    )
    doc = run(knowledge, raw)
    assert summary(doc) == expected(
        ga="24+6",
        infection={**UNDATED, "onset_window": ["2026-06-05", "2026-06-05"], "timing": "second trimester"},
        regimens=[("pregnancy-prevention", 2000, 6, "2026-06-12", "2026-06-20")],
        amniocentesis=["2026-07-31"], alerts=["boundary-case"],
    )  # fmt: skip
    assert doc["regimens"][0]["stop_rule"] == (
        "26+0 (2026-06-20): no amniocentesis can be done before this stop date (earliest 2026-07-31, A4), "
        "so the course runs until 26+0, as without an amniocentesis (A5, I-3)"
    )
