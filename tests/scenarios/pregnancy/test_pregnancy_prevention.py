"""Vignettes of valacyclovir-prevention (rules A1-A5, A7; interpretations I-1 to I-4, I-6, I-8).

Dates worked by hand from LMP 2025-12-20: 20+1 = 2026-05-10 (LMP + 141 d), 24+0 = 2026-06-06
(+168 d), 26+0 = 2026-06-20 (+182 d). Earliest amniocentesis = later of (latest onset + 56 d)
and 20+1 (A4).
"""

from __future__ import annotations

from typing import Any

import pytest
from pregnancy_cases import BASELINE, EDD, case, expected, run, serology, summary

from cmvcds.knowledge import Knowledge

NOT_INDICATED = {"valacyclovir-prevention": "not_indicated"}
INSUFFICIENT = {"valacyclovir-prevention": "insufficient_data"}


def check(
    knowledge: Knowledge,
    raw: dict[str, Any],
    want: dict[str, Any],
    settings: dict[str, Any] | None = None,
) -> None:
    assert summary(run(knowledge, raw, settings)) == want


def test_baseline_design_case(knowledge: Knowledge) -> None:
    doc = run(knowledge, BASELINE)
    assert summary(doc) == expected()
    assert doc["findings"]["key_dates"] == {
        "20+1": "2026-05-10",
        "24+0": "2026-06-06",
        "26+0": "2026-06-20",
    }
    regimen = doc["regimens"][0]
    assert (regimen["daily_mg"], regimen["route"]) == (8000, "oral")
    assert (
        regimen["stop_rule"]
        == "26+0 (2026-06-20) unless an amniocentesis (from 2026-05-10) is reported earlier (A5, I-3)"
    )
    decision = doc["decisions"][0]
    assert decision["citations"][:2] == [
        "aifa2020-648-valacyclovir",
        "infezmed2021-letter-valacyclovir-648",
    ]
    # A4 (amniocentesis timing) is cited by the schedule item, not by the decision
    assert decision["rules"] == [
        "A1", "A2", "I-1", "I-2", "I-6", "A5", "I-3", "A7", "I-4", "I-11", "A3", "A9",
    ]  # fmt: skip
    assert all(item["citations"] for item in doc["schedule"] + doc["regimens"] + doc["decisions"])


# --- onset timing: 24+0 and the onset window (A2, I-1, I-2) ------------------------------------


def late_case(onset: str | None, *, assessed: str = "2026-06-12") -> dict[str, Any]:
    """IgG negative at 22+0 (2026-05-23), IgG/IgM positive, low avidity at 24+4 (2026-06-10)."""
    rows = serology(
        ("2026-05-23", "cmv_igg", "negative"),
        ("2026-06-10", "cmv_igg", "positive"),
        ("2026-06-10", "cmv_igm", "positive"),
        ("2026-06-10", "cmv_igg_avidity", "low"),
    )
    pregnancy: dict[str, Any] = {"symptom_onset": onset} if onset else {}
    return case(observations=rows, pregnancy=pregnancy, assessed_on=assessed)


def test_onset_at_23_6_is_eligible_and_late_diagnosis_flagged(knowledge: Knowledge) -> None:
    # Symptom onset 2026-06-05 = 23+6, inside (2026-05-24, 2026-06-10]: the onset (I-2.1).
    # Diagnosed 2026-06-10 (24+4) after 24+0 with the onset before it: eligible by I-1, flagged.
    check(knowledge, late_case("2026-06-05"), expected(
        ga="24+6",
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2026-06-05", "2026-06-05"], "timing": "second trimester"},
        regimens=[("pregnancy-prevention", 2000, 6, "2026-06-12", "2026-06-20")],
        amniocentesis=["2026-07-31"],  # 2026-06-05 + 56 days
        stop=["2026-06-20"],
        alerts=["boundary-case"],
    ))  # fmt: skip


def test_onset_at_24_0_is_not_eligible(knowledge: Knowledge) -> None:
    check(knowledge, late_case("2026-06-06"), expected(
        ga="24+6",
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2026-06-06", "2026-06-06"], "timing": "second trimester"},
        decisions=NOT_INDICATED, regimens=[], amniocentesis=["2026-08-01"], stop=[],
    ))  # fmt: skip


def test_window_straddling_24_0_goes_to_specialist_review(knowledge: Knowledge) -> None:
    # Window (2026-05-23, 2026-06-10] contains 24+0 (2026-06-06): undecidable, flagged (I-2.2).
    check(knowledge, late_case(None), expected(
        ga="24+6",
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2026-05-24", "2026-06-10"], "timing": "second trimester"},
        decisions={"valacyclovir-prevention": "specialist_review"}, regimens=[],
        amniocentesis=["2026-08-05"], stop=[], alerts=["boundary-case"],
    ))  # fmt: skip


def test_inconsistent_symptom_onset_is_ignored_and_flagged(knowledge: Knowledge) -> None:
    # Symptom onset 2026-05-01 precedes the last negative IgG (2026-05-23): not used.
    check(knowledge, late_case("2026-05-01"), expected(
        ga="24+6",
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2026-05-24", "2026-06-10"], "timing": "second trimester"},
        decisions={"valacyclovir-prevention": "specialist_review"}, regimens=[],
        amniocentesis=["2026-08-05"], stop=[], alerts=["boundary-case", "boundary-case"],
    ))  # fmt: skip


def test_course_already_over_at_26_0(knowledge: Knowledge) -> None:
    # Same eligible onset (23+6), assessed at 26+1 (2026-06-21): the course would have ended at 26+0.
    check(knowledge, late_case("2026-06-05", assessed="2026-06-21"), expected(
        ga="26+1",
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2026-06-05", "2026-06-05"], "timing": "second trimester"},
        decisions=NOT_INDICATED, regimens=[], amniocentesis=["2026-07-31"], stop=[],
        alerts=["boundary-case"],
    ))  # fmt: skip


def test_preconceptional_seroconversion_is_not_indicated(knowledge: Knowledge) -> None:
    # Onset in (2025-09-01, 2025-11-20]: before the periconceptional window (from 2025-12-13).
    rows = serology(("2025-09-01", "cmv_igg", "negative"), ("2025-11-20", "cmv_igg", "positive"),
                    ("2025-11-20", "cmv_igm", "positive"))  # fmt: skip
    check(knowledge, case(observations=rows), expected(
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2025-09-02", "2025-11-20"], "timing": "preconceptional"},
        decisions=NOT_INDICATED, regimens=[], amniocentesis=[], stop=[],
    ))  # fmt: skip


def pre_lmp(onset: str | None) -> dict[str, Any]:
    rows = serology(("2025-11-01", "cmv_igg", "negative"), ("2026-01-05", "cmv_igg", "positive"),
                    ("2026-01-05", "cmv_igm", "positive"))  # fmt: skip
    return case(observations=rows, pregnancy={"symptom_onset": onset} if onset else {})


def test_periconceptional_onset_before_lmp_is_eligible_by_default(knowledge: Knowledge) -> None:
    # Symptom onset 2025-12-15 = LMP - 5 days, inside the default window (LMP - 7 d, I-6).
    check(knowledge, pre_lmp("2025-12-15"), expected(
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2025-12-15", "2025-12-15"], "timing": "periconceptional"},
        amniocentesis=["2026-05-10"],  # 2025-12-15 + 56 = 2026-02-09, before 20+1
    ))  # fmt: skip


def test_site_window_starting_at_lmp_makes_the_same_onset_preconceptional(
    knowledge: Knowledge,
) -> None:
    settings = {"pregnancy.periconceptional_from_day": 0, "pregnancy.periconceptional_to_day": 28}
    doc = run(knowledge, pre_lmp("2025-12-15"), settings)
    assert summary(doc) == expected(
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2025-12-15", "2025-12-15"], "timing": "preconceptional"},
        decisions=NOT_INDICATED, regimens=[], amniocentesis=[], stop=[],
    )  # fmt: skip
    assert doc["settings"] == settings
    assert not any("periconceptional window" in a["message"] for a in doc["alerts"])


def test_window_straddling_the_periconceptional_start(knowledge: Knowledge) -> None:
    # Seroconversion (2025-11-01, 2026-01-05] begins before LMP - 7 d (2025-12-13) and ends inside
    # the window: like an undated onset with the same first positive (I-2.3), it counts as within
    # the window and is flagged: a preconceptional onset cannot be excluded (rules.yaml I-2 note).
    doc = run(knowledge, pre_lmp(None))
    assert summary(doc) == expected(
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2025-11-02", "2026-01-05"], "timing": "preconceptional to periconceptional"},
        alerts=["boundary-case"],
    )  # fmt: skip
    (alert,) = [a for a in doc["alerts"] if a["code"] == "boundary-case"]
    assert alert["message"].startswith(
        "Onset between 2025-11-02 (48 days before the LMP) and 2026-01-05 (2+2): a preconceptional "
        "onset (before the periconceptional window, which starts on 2025-12-13) cannot be excluded."
    )


# --- amniocentesis date (A4) ------------------------------------------------------------------


def onset_on(first_positive: str, negative: str = "2026-01-10") -> dict[str, Any]:
    rows = serology((negative, "cmv_igg", "negative"), (first_positive, "cmv_igg", "positive"),
                    (first_positive, "cmv_igm", "positive"))  # fmt: skip
    return case(observations=rows, assessed_on="2026-03-25")


def test_onset_plus_8_weeks_later_than_20_1(knowledge: Knowledge) -> None:
    # Latest onset 2026-03-20 + 56 d = 2026-05-15, after 20+1 (2026-05-10).
    check(knowledge, onset_on("2026-03-20"), expected(
        ga="13+4",
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2026-01-11", "2026-03-20"], "timing": "periconceptional to first trimester"},
        regimens=[("pregnancy-prevention", 2000, 6, "2026-03-25", "2026-06-20")],
        amniocentesis=["2026-05-15"],
    ))  # fmt: skip


def test_onset_plus_8_weeks_falls_exactly_on_20_1(knowledge: Knowledge) -> None:
    # Latest onset 2026-03-15 + 56 d = 2026-05-10 = 20+1 exactly.
    check(knowledge, onset_on("2026-03-15"), expected(
        ga="13+4",
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2026-01-11", "2026-03-15"], "timing": "periconceptional to first trimester"},
        regimens=[("pregnancy-prevention", 2000, 6, "2026-03-25", "2026-06-20")],
        amniocentesis=["2026-05-10"],
    ))  # fmt: skip


def test_amniocentesis_booked_on_20_1_exactly(knowledge: Knowledge) -> None:
    # Booked on the earliest date: valid; the course stops when its result is reported, and at
    # 26+0 (2026-06-20) at the latest: that fallback is the regimen's stop and a schedule item.
    doc = run(knowledge, case(pregnancy={"amniocentesis_booked": "2026-05-10"}))
    assert summary(doc) == expected()
    assert doc["regimens"][0]["stop_rule"] == (
        "when the result of the amniocentesis booked for 2026-05-10 is reported (negative: stop; "
        "positive: stop and assess in-utero treatment), at the latest at 26+0 (2026-06-20) (A5, I-3)"
    )


def test_amniocentesis_booked_one_day_early(knowledge: Knowledge) -> None:
    check(knowledge, case(pregnancy={"amniocentesis_booked": "2026-05-09"}),
          expected(alerts=["amniocentesis-too-early"]))  # fmt: skip


def test_amniocentesis_declined(knowledge: Knowledge) -> None:
    doc = run(knowledge, case(pregnancy={"amniocentesis_declined": True}))
    assert summary(doc) == expected(amniocentesis=[])
    assert doc["regimens"][0]["stop_rule"] == "26+0 (2026-06-20): amniocentesis declined (A5, I-3)"


def amnio(sampled: str, reported: str, result: str, **extra: Any) -> dict[str, Any]:
    return {
        "date": sampled,
        "code": "cmv_dna",
        "specimen": "amniotic_fluid",
        "result": result,
        "reported": reported,
        **extra,
    }


def test_negative_amniocentesis_ends_the_course(knowledge: Knowledge) -> None:
    raw = case(assessed_on="2026-05-20",
               observations=[*BASELINE["observations"], amnio("2026-05-12", "2026-05-19", "not_detected")])  # fmt: skip
    check(knowledge, raw, expected(
        ga="21+4",
        decisions={"valacyclovir-prevention": "not_indicated", "valacyclovir-fetal-treatment": "not_indicated"},
        regimens=[], amniocentesis=[], stop=["2026-05-19"], alerts=["late-transmission-possible"],
    ))  # fmt: skip


def test_negative_amniocentesis_too_early_does_not_end_the_course(knowledge: Knowledge) -> None:
    raw = case(assessed_on="2026-05-09",
               observations=[*BASELINE["observations"], amnio("2026-05-05", "2026-05-08", "not_detected")])  # fmt: skip
    check(knowledge, raw, expected(
        ga="20+0",
        decisions={"valacyclovir-prevention": "recommended", "valacyclovir-fetal-treatment": "not_indicated"},
        regimens=[("pregnancy-prevention", 2000, 6, "2026-05-09", "2026-06-20")],
        alerts=["amniocentesis-too-early"],
    ))  # fmt: skip


def test_positive_amniocentesis_stops_prevention_on_its_report(knowledge: Knowledge) -> None:
    raw = case(assessed_on="2026-05-20",
               observations=[*BASELINE["observations"], amnio("2026-05-12", "2026-05-19", "detected")],
               ultrasound=[{"date": "2026-05-19", "findings": ["hepatomegaly"]}])  # fmt: skip
    check(knowledge, raw, expected(
        ga="21+4",
        decisions={"valacyclovir-prevention": "not_indicated", "valacyclovir-fetal-treatment": "recommended"},
        regimens=[("fetal-treatment", 2000, 6, "2026-05-20", EDD)], amniocentesis=[], stop=["2026-05-19"],
    ))  # fmt: skip


def test_running_course_keeps_its_start_date(knowledge: Knowledge) -> None:
    therapy = [
        {
            "drug": "valacyclovir",
            "dose_mg": 2000,
            "every_h": 6,
            "route": "oral",
            "start": "2026-02-25",
        }
    ]
    check(knowledge, case(therapy=therapy),
          expected(regimens=[("pregnancy-prevention", 2000, 6, "2026-02-25", "2026-06-20")]))  # fmt: skip


def test_twins_dose_unchanged(knowledge: Knowledge) -> None:
    doc = run(knowledge, case(pregnancy={"fetuses": 2}))
    assert summary(doc) == expected()
    assert doc["findings"]["fetuses"] == 2
    assert (
        "Multiple pregnancy (2 fetuses): the dose is unchanged (A3)."
        in doc["decisions"][0]["reasons"]
    )


# --- maternal infection status (A1) -----------------------------------------------------------

SAMPLE = "2026-02-20"
UNDATED = ["null-window"]


def status_case(*rows: tuple[str, str]) -> dict[str, Any]:
    return case(observations=serology(*((SAMPLE, code, result) for code, result in rows)))


POSITIVE_PAIR = (("cmv_igg", "positive"), ("cmv_igm", "positive"))


def primary(criterion: str) -> dict[str, Any]:
    # Undated onset (on or before 2026-02-20, 8+6): counted as within the window (I-2.3), flagged
    # because a preconceptional onset (before 2025-12-13) cannot be excluded.
    return expected(infection={"status": "primary", "criterion": criterion,
                               "onset_window": [None, SAMPLE], "timing": "first trimester or earlier"},
                    alerts=["boundary-case"])  # fmt: skip


def not_primary(
    status: str, *missing: str, decisions: dict[str, str] | None = None
) -> dict[str, Any]:
    return expected(infection={"status": status}, decisions=decisions or NOT_INDICATED, regimens=[],
                    amniocentesis=[], stop=[], missing=sorted(missing))  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "want"),
    [
        pytest.param((*POSITIVE_PAIR, ("cmv_igg_avidity", "low")), primary("igg-igm-low-avidity"), id="b-low-avidity"),
        pytest.param((*POSITIVE_PAIR, ("cmv_igg_avidity", "intermediate"), ("dna:urine", "detected")),
                     primary("igg-igm-intermediate-avidity-dna"), id="c-intermediate-with-dna-urine"),
        pytest.param((*POSITIVE_PAIR, ("cmv_igg_avidity", "intermediate"), ("dna:whole_blood", "detected")),
                     primary("igg-igm-intermediate-avidity-dna"), id="c-intermediate-with-dnaemia"),
        pytest.param((*POSITIVE_PAIR, ("cmv_igg_avidity", "intermediate"), ("dna:whole_blood", "not_detected")),
                     not_primary("not_established"), id="intermediate-without-dnaemia"),
        pytest.param((*POSITIVE_PAIR, ("cmv_igg_avidity", "intermediate")),
                     not_primary("insufficient_data", "cmv_dna (maternal whole blood, urine or saliva)",
                                 decisions=INSUFFICIENT), id="intermediate-dna-not-tested"),
        pytest.param((*POSITIVE_PAIR, ("cmv_igg_avidity", "intermediate"), ("dna:plasma", "detected")),
                     not_primary("insufficient_data", "cmv_dna (maternal whole blood, urine or saliva)",
                                 decisions=INSUFFICIENT), id="intermediate-plasma-only"),
        pytest.param(POSITIVE_PAIR, not_primary("insufficient_data", "cmv_igg_avidity", decisions=INSUFFICIENT),
                     id="igg-igm-without-avidity"),
        pytest.param((*POSITIVE_PAIR, ("cmv_igg_avidity", "high")), not_primary("non_primary"), id="high-avidity"),
        pytest.param((("cmv_igg", "positive"), ("cmv_igm", "negative")), not_primary("non_primary"), id="past-infection"),
        pytest.param((("cmv_igg", "negative"), ("cmv_igm", "negative")), not_primary("none"), id="seronegative"),
        pytest.param((("cmv_igg", "negative"), ("cmv_igm", "positive")),
                     not_primary("insufficient_data", "cmv_igg", decisions=INSUFFICIENT), id="igm-only"),
        pytest.param((("cmv_igg", "positive"),), not_primary("insufficient_data", "cmv_igm", decisions=INSUFFICIENT),
                     id="igg-without-igm"),
        pytest.param((), not_primary("insufficient_data", "cmv_igg", decisions=INSUFFICIENT), id="no-serology"),
    ],
)  # fmt: skip
def test_maternal_infection_status(
    knowledge: Knowledge, rows: tuple[tuple[str, str], ...], want: dict[str, Any]
) -> None:
    check(knowledge, status_case(*rows), want)


# --- exclusions (A7, I-4) ---------------------------------------------------------------------


def renal(creatinine: float | None, egfr: float | None) -> dict[str, Any]:
    rows = [o for o in BASELINE["observations"] if o["code"] not in ("creatinine", "egfr")]
    if creatinine is not None:
        rows.append(
            {"date": "2026-02-20", "code": "creatinine", "value": creatinine, "unit": "mg/dL"}
        )
    if egfr is not None:
        rows.append({"date": "2026-02-20", "code": "egfr", "value": egfr, "unit": "mL/min/1.73m2"})
    return case(observations=rows)


EXCLUDED = expected(decisions={"valacyclovir-prevention": "excluded"}, regimens=[], stop=[],
                    alerts=["renal-exclusion"])  # fmt: skip


@pytest.mark.parametrize(
    ("creatinine", "egfr", "want"),
    [
        pytest.param(1.1, 95, expected(), id="creatinine-1.1-at-the-limit"),
        pytest.param(1.11, 95, EXCLUDED, id="creatinine-1.11-excluded"),
        pytest.param(0.8, 90, expected(), id="egfr-90-at-the-limit"),
        pytest.param(0.8, 89, EXCLUDED, id="egfr-89-excluded"),
        pytest.param(1.2, 95, EXCLUDED, id="creatinine-alone-excludes"),
        pytest.param(0.9, 80, EXCLUDED, id="egfr-alone-excludes"),
        pytest.param(None, 118, expected(decisions=INSUFFICIENT, regimens=[], stop=[], missing=["creatinine"]),
                     id="no-creatinine"),
    ],
)  # fmt: skip
def test_renal_exclusions(
    knowledge: Knowledge, creatinine: float | None, egfr: float | None, want: dict[str, Any]
) -> None:
    check(knowledge, renal(creatinine, egfr), want)


def test_computed_egfr_below_90_does_not_exclude(knowledge: Knowledge) -> None:
    # Creatinine 1.0 mg/dL (not > 1.1), female, 33 years, no eGFR reported: CKD-EPI 2021 =
    # 142 × (1.0/0.7)^-1.200 × 0.9938^33 × 1.012 ≈ 142 × 0.6518 × 0.8145 × 1.012 ≈ 76.3 < 90.
    # Not validated in pregnancy and not the protocol's stated equation: shown, not used to
    # exclude; the laboratory's eGFR (or a measured clearance) is asked for (I-4).
    doc = run(knowledge, renal(1.0, None))
    assert summary(doc) == expected(decisions=INSUFFICIENT, regimens=[], stop=[], missing=["egfr"])
    found = doc["findings"]["renal"]
    assert "egfr" not in found
    assert found["egfr_computed"] == pytest.approx(76.2, abs=0.15)
    assert found["egfr_computed_method"].startswith("CKD-EPI 2021 from creatinine 1.00 mg/dL")
    assert not any(a["code"] == "renal-exclusion" for a in doc["alerts"])


def test_egfr_computed_normal(knowledge: Knowledge) -> None:
    doc = run(knowledge, renal(0.62, None))
    assert summary(doc) == expected()
    assert doc["findings"]["renal"]["egfr"] > 90


def test_age_under_12_excluded(knowledge: Knowledge) -> None:
    raw = case(patient={"sex": "female", "birth_date": "2014-06-01"})
    check(
        knowledge,
        raw,
        expected(decisions={"valacyclovir-prevention": "excluded"}, regimens=[], stop=[]),
    )


# --- dating -----------------------------------------------------------------------------------


def test_undated_pregnancy(knowledge: Knowledge) -> None:
    raw = case()
    raw["pregnancy"] = {"fetuses": 1}
    check(knowledge, raw, {"ga": None, "infection": {}, "decisions": INSUFFICIENT, "regimens": [],
                           "amniocentesis": [], "stop": [], "alerts": [], "missing": ["pregnancy.lmp"]})  # fmt: skip


def test_edd_dates_the_pregnancy(knowledge: Knowledge) -> None:
    raw = case()
    raw["pregnancy"] = {"edd": "2026-09-26"}  # = LMP 2025-12-20 + 280 d
    check(knowledge, raw, expected())


def test_scan_within_acog_threshold_keeps_the_lmp(knowledge: Knowledge) -> None:
    # Scan 2026-02-27 reads 10+0 (LMP says 9+6): 1 day ≤ 7 (scan at 9+0-13+6): LMP kept, flagged.
    doc = run(
        knowledge, case(pregnancy={"dating": {"date": "2026-02-27", "gestational_age": "10+0"}})
    )
    assert summary(doc) == expected(alerts=["boundary-case"])
    assert doc["findings"]["dating"]["basis"] == "LMP (scan within 7 days)"


def test_scan_beyond_acog_threshold_redates(knowledge: Knowledge) -> None:
    # Scan 2026-02-27 reads 11+2 (LMP says 9+6): 10 days > 7: redated, LMP 2025-12-10.
    # 20+1 = 2026-04-30; onset 2026-02-20 + 56 d = 2026-04-17; earliest 2026-04-30; 26+0 = 2026-06-10.
    # The onset window now starts at LMP + 32 d, still periconceptional (≤ LMP + 35 d).
    doc = run(
        knowledge, case(pregnancy={"dating": {"date": "2026-02-27", "gestational_age": "11+2"}})
    )
    assert summary(doc) == expected(
        ga="11+5",
        infection={"status": "primary", "criterion": "seroconversion",
                   "onset_window": ["2026-01-11", "2026-02-20"], "timing": "periconceptional to first trimester"},
        regimens=[("pregnancy-prevention", 2000, 6, "2026-03-02", "2026-06-10")],
        amniocentesis=["2026-04-30"], stop=["2026-06-10"], alerts=["boundary-case"],
    )  # fmt: skip
    assert doc["findings"]["dating"]["lmp"] == "2025-12-10"


def test_undated_first_positive_after_24_0_goes_to_specialist_review(knowledge: Knowledge) -> None:
    # IgG/IgM positive, low avidity, first tested at 25+0 (2026-06-13): the onset is "on or before"
    # it and may lie on either side of 24+0 (I-2.3 covers only a first positive before 24+0).
    rows = serology(("2026-06-13", "cmv_igg", "positive"), ("2026-06-13", "cmv_igm", "positive"),
                    ("2026-06-13", "cmv_igg_avidity", "low"))  # fmt: skip
    check(knowledge, case(observations=rows, assessed_on="2026-06-15"), expected(
        ga="25+2",
        infection={"status": "primary", "criterion": "igg-igm-low-avidity",
                   "onset_window": [None, "2026-06-13"], "timing": "second trimester or earlier"},
        decisions={"valacyclovir-prevention": "specialist_review"}, regimens=[],
        amniocentesis=["2026-08-08"], stop=[], alerts=["boundary-case"],
    ))  # fmt: skip


def test_reported_egfr_older_than_creatinine_is_not_used(knowledge: Knowledge) -> None:
    # eGFR 118 reported on 2026-02-20; creatinine 1.0 mg/dL on 2026-02-28 is newer, so the eGFR
    # no longer describes it; CKD-EPI 2021 from it (≈ 76, see above) does not exclude: missing eGFR.
    rows = [
        *BASELINE["observations"],
        {"date": "2026-02-28", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
    ]
    doc = run(knowledge, case(observations=rows))
    assert summary(doc) == expected(decisions=INSUFFICIENT, regimens=[], stop=[], missing=["egfr"])
    assert doc["findings"]["renal"]["creatinine_date"] == "2026-02-28"
    (missing,) = doc["missing"]
    assert missing["why"].startswith(
        "the latest GFR (2026-02-20) is older than the creatinine of 2026-02-28"
    )


def test_site_window_outside_the_guideline_range_is_flagged(knowledge: Knowledge) -> None:
    settings = {"pregnancy.periconceptional_from_day": -14, "pregnancy.periconceptional_to_day": 35}
    doc = run(knowledge, BASELINE, settings)
    assert summary(doc) == expected(alerts=["config-range"])
    assert doc["settings"] == settings
