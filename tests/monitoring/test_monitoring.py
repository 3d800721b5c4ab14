"""Therapy-monitoring vignettes: blood counts with hold/resume, renal decline, TDM, course length,
viral-load rise (suspected resistance), refractory CMV in transplant, genotyping, the calendar.

Infant baseline (seed 001): a girl born 2025-06-01 at 39+0, on valganciclovir since 2025-06-10
(52 mg q12h, then 96 mg q12h from 2025-09-10), 7.0 kg on 2026-01-04, assessed 2026-01-05.
Plasma viral load (IU/mL) on treatment: 2,000 → 400 → 200 (nadir, 2025-09-10) → 300 → 250 →
3,000 (2025-12-10, +1.18 log10) → 5,000 (2025-12-20, +1.40 log10, the confirmation).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult
from cmvcds.domain.settings import SiteSettings, parse_settings
from cmvcds.domain.vocabulary import AlertCode, DecisionId, Outcome, ScheduleEvent, Severity
from cmvcds.engine import congenital, monitoring
from cmvcds.knowledge import Knowledge

from ..conftest import TODAY


def vl(day: str, value: float, unit: str = "IU/mL", specimen: str = "plasma") -> dict[str, Any]:
    return {"date": day, "code": "cmv_dna", "specimen": specimen, "value": value, "unit": unit}


INFANT: dict[str, Any] = {
    "id": "ccmv-long-course",
    "assessed_on": "2026-01-05",
    "context": "congenital",
    "patient": {"sex": "female", "birth_date": "2025-06-01", "weight_kg": 3.3},
    "congenital": {
        "gestational_age_at_birth": "39+0",
        "birth_weight_kg": 3.3,
        "diagnosis": {"date": "2025-06-04", "specimen": "saliva"},
        "manifestations": ["microcephaly", "intracranial_calcifications"],
        "hearing": "bilateral_snhl",
    },
    "observations": [
        vl("2025-06-09", 50000),
        vl("2025-07-10", 2000),
        vl("2025-08-10", 400),
        vl("2025-09-10", 200),
        vl("2025-10-10", 300),
        vl("2025-11-10", 250),
        vl("2025-12-10", 3000),
        vl("2025-12-20", 5000),
        {"date": "2025-09-09", "code": "weight", "value": 6.0, "unit": "kg"},
        {"date": "2026-01-04", "code": "weight", "value": 7.0, "unit": "kg"},
    ],
    "therapy": [
        {
            "drug": "valganciclovir",
            "dose_mg": 52,
            "every_h": 12,
            "route": "oral",
            "start": "2025-06-10",
        },
        {
            "drug": "valganciclovir",
            "dose_mg": 96,
            "every_h": 12,
            "route": "oral",
            "start": "2025-09-10",
        },
    ],
}

#: A 55-year-old kidney recipient (D+/R−) after valganciclovir prophylaxis, treated from 2025-09-01.
TRANSPLANT: dict[str, Any] = {
    "id": "sot-refractory",
    "assessed_on": "2025-09-22",
    "context": "transplant",
    "patient": {"sex": "male", "age_years": 55, "weight_kg": 80, "height_cm": 178},
    "transplant": {
        "organ": "kidney",
        "date": "2025-01-10",
        "donor_cmv_igg": "positive",
        "recipient_cmv_igg": "negative",
    },
    "observations": [
        {"date": "2025-08-29", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
        vl("2025-08-29", 5000),
        vl("2025-09-08", 9000),
        vl("2025-09-15", 20000),
        vl("2025-09-22", 80000),
    ],
    "therapy": [
        {
            "drug": "valganciclovir",
            "dose_mg": 900,
            "every_h": 24,
            "route": "oral",
            "start": "2025-01-15",
            "stop": "2025-07-30",
            "indication": "prophylaxis",
        },
        {
            "drug": "valganciclovir",
            "dose_mg": 900,
            "every_h": 12,
            "route": "oral",
            "start": "2025-09-01",
            "indication": "induction",
        },
    ],
}


def drop(raw: dict[str, Any], *days: str) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    out["observations"] = [
        o for o in out["observations"] if not (o["code"] == "cmv_dna" and o["date"] in days)
    ]
    return out


def until(raw: dict[str, Any], day: str) -> dict[str, Any]:
    """``raw`` assessed on ``day``, without the observations that come after it."""
    out = copy.deepcopy(raw)
    out["assessed_on"] = day
    out["observations"] = [o for o in out["observations"] if o["date"] <= day]
    return out


def add(raw: dict[str, Any], *observations: dict[str, Any], **top: Any) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    out["observations"] = [*out["observations"], *observations]
    out.update(top)
    return out


Run = Callable[..., PathwayResult]


@pytest.fixture
def run(make_case: Callable[[dict[str, Any]], Case], knowledge: Knowledge) -> Run:
    def go(raw: dict[str, Any], site: SiteSettings | None = None) -> PathwayResult:
        case = make_case(raw)
        return monitoring.evaluate(case, knowledge, case.assessed_on, site or SiteSettings())

    return go


def alerts(result: PathwayResult, code: AlertCode) -> list[Any]:
    return [a for a in result.alerts if a.code == code]


def codes(result: PathwayResult) -> set[AlertCode]:
    return {a.code for a in result.alerts}


def genotyping(result: PathwayResult) -> Any:
    (d,) = [d for d in result.decisions if d.id == DecisionId.RESISTANCE_GENOTYPING]
    return d


def on_course(
    *observations: dict[str, Any], assessed: str = "2025-07-01", **changes: Any
) -> dict[str, Any]:
    """The infant early in the course (weight 3.3 kg), with ``observations`` and no viral loads."""
    raw = copy.deepcopy(INFANT)
    raw["assessed_on"] = assessed
    raw["observations"] = list(observations)
    raw["therapy"] = [
        {
            "drug": "valganciclovir",
            "dose_mg": 52.8,
            "every_h": 12,
            "route": "oral",
            "start": "2025-06-10",
        }
    ]
    raw.update(changes)
    return raw


def anc(day: str, value: int) -> dict[str, Any]:
    return {"date": day, "code": "anc", "value": value, "unit": "cells/uL"}


# --- nothing to monitor ---------------------------------------------------------------------------------


def test_no_therapy_and_no_viral_load_gives_an_empty_result(run: Run) -> None:
    raw = copy.deepcopy(TRANSPLANT)
    raw["therapy"] = []
    raw["observations"] = [raw["observations"][0]]
    assert run(raw) == PathwayResult()


# --- long course: confirmed rise, genotyping, beyond evidence, dose drift ----------------------------------


def test_long_course_with_confirmed_rise_asks_for_genotyping(run: Run) -> None:
    result = run(INFANT)
    (alert,) = alerts(result, AlertCode.SUSPECTED_RESISTANCE)
    assert (
        "3000 on 2025-12-10 and 5000 on 2025-12-20, 1.40 log10 above the on-treatment nadir 200 (2025-09-10)"
        in alert.message
    )
    d = genotyping(result)
    assert d.outcome == Outcome.RECOMMENDED
    assert d.genes == ("UL97", "UL54")
    # 2025-06-10 … 2026-01-05 inclusive = 210 days of valganciclovir.
    assert "210 days" in d.reasons[0]
    (item,) = [s for s in result.schedule if s.event == ScheduleEvent.GENOTYPE]
    assert item.earliest == date(2026, 1, 5) and item.reason == "UL97, UL54"


def test_long_course_beyond_six_months(run: Run) -> None:
    (alert,) = alerts(run(INFANT), AlertCode.THERAPY_BEYOND_EVIDENCE)
    assert "beyond 6 months (2025-12-10)" in alert.message
    assert "kimberlin2015-nejm-valganciclovir" in alert.citations


def test_long_course_dose_has_not_followed_the_weight(run: Run) -> None:
    # 16 mg/kg × 7.0 kg = 112 mg; 96 mg is 14 % below (tolerance 10 %).
    (alert,) = alerts(run(INFANT), AlertCode.DOSE_BELOW_TARGET)
    assert "96 mg" in alert.message and "112 mg" in alert.message


def test_long_course_chart(run: Run) -> None:
    chart = run(INFANT).findings["viral_load_kinetics"]
    (line,) = chart.series
    assert line.key == "plasma IU/mL"
    assert line.nadir.value == 200
    assert [(m.day, m.code) for m in chart.markers] == [
        (date(2025, 12, 20), "suspected-resistance")
    ]
    assert [(b.start, b.stop, b.dose_mg, b.ongoing) for b in chart.therapy] == [
        (date(2025, 6, 10), date(2025, 9, 9), 52, False),
        (date(2025, 9, 10), date(2026, 1, 5), 96, True),
    ]


def test_unconfirmed_single_rise_gives_no_alert_but_a_repeat(run: Run) -> None:
    result = run(until(INFANT, "2025-12-15"))
    assert AlertCode.SUSPECTED_RESISTANCE not in codes(result)
    assert not [d for d in result.decisions if d.id == DecisionId.RESISTANCE_GENOTYPING]
    repeat = [
        s
        for s in result.schedule
        if s.event == ScheduleEvent.VIRAL_LOAD and s.earliest == date(2025, 12, 15)
    ]
    assert len(repeat) == 1 and "repeat the viral load" in (repeat[0].reason or "")


def test_iu_and_copies_are_never_mixed(run: Run) -> None:
    # The two high values are in copies/mL: a new series of two points, no nadir to rise from.
    raw = drop(INFANT, "2025-12-10", "2025-12-20")
    raw = add(raw, vl("2025-12-10", 3000, "copies/mL"), vl("2025-12-20", 5000, "copies/mL"))
    result = run(raw)
    assert AlertCode.SUSPECTED_RESISTANCE not in codes(result)
    keys = [s.key for s in result.findings["viral_load_kinetics"].series]
    assert keys == ["plasma IU/mL", "plasma copies/mL"]


def test_plasma_and_whole_blood_are_never_mixed(run: Run) -> None:
    raw = drop(INFANT, "2025-12-10", "2025-12-20")
    raw = add(
        raw,
        vl("2025-12-10", 3000, specimen="whole_blood"),
        vl("2025-12-20", 5000, specimen="whole_blood"),
    )
    assert AlertCode.SUSPECTED_RESISTANCE not in codes(run(raw))


def test_genotype_already_reported(run: Run) -> None:
    raw = copy.deepcopy(INFANT)
    raw["genotype"] = [
        {"date": "2025-12-22", "mutations": ["UL97:M460V"], "genes_tested": ["UL97", "UL54"]}
    ]
    assert genotyping(run(raw)).outcome == Outcome.NOT_INDICATED


@pytest.mark.parametrize(("stop", "beyond"), [("2025-12-10", False), ("2025-12-11", True)])
def test_six_calendar_months_exactly_is_within_evidence(run: Run, stop: str, beyond: bool) -> None:
    # Assessed the day before the limit, with the stop date planned.
    raw = until(INFANT, "2025-12-09")
    raw["therapy"][1]["stop"] = stop
    assert (AlertCode.THERAPY_BEYOND_EVIDENCE in codes(run(raw))) is beyond


# --- blood counts: neutropenia hold and resume (D-2) ----------------------------------------------------


def test_anc_below_500_holds(run: Run) -> None:
    (alert,) = alerts(run(on_course(anc("2025-06-24", 499))), AlertCode.NEUTROPENIA)
    assert alert.severity == Severity.CRITICAL
    # the site row has no full stop of its own: the alert ends with one
    assert alert.message == (
        "valganciclovir: ANC 499 cells/uL on 2025-06-24 is below 500: hold the drug; recheck the "
        "ANC (about twice weekly) and restart when it recovers (restart when above 750). Recheck the "
        "ANC on 2025-07-01."  # 3 days after 06-24 (the row's recheck_days) is past: due today
    )


def test_anc_exactly_500_does_not_hold_but_is_flagged(run: Run) -> None:
    result = run(on_course(anc("2025-06-24", 500)))
    assert alerts(result, AlertCode.NEUTROPENIA) == []
    (edge,) = alerts(result, AlertCode.BOUNDARY_CASE)
    assert "exactly on the threshold 500" in edge.message


def test_anc_exactly_750_after_a_hold_keeps_holding(run: Run) -> None:
    result = run(on_course(anc("2025-06-24", 400), anc("2025-06-28", 750)))
    (alert,) = alerts(result, AlertCode.NEUTROPENIA)
    assert alert.severity == Severity.WARNING and "held since 2025-06-24" in alert.message
    assert len(alerts(result, AlertCode.BOUNDARY_CASE)) == 1


def test_anc_751_after_a_hold_restarts(run: Run) -> None:
    (alert,) = alerts(
        run(on_course(anc("2025-06-24", 400), anc("2025-06-28", 751))), AlertCode.NEUTROPENIA
    )
    # the sources differ on the restart dose (pack: full dose; BC Women's and LHSC neonatal
    # manuals: half dose): both are shown, none picked (issue 14 item 8)
    assert alert.severity == Severity.INFO
    assert "restart; the sources differ on the restart dose" in alert.message


def test_site_thresholds_replace_the_defaults(run: Run, knowledge: Knowledge) -> None:
    site = parse_settings(
        {"neonatal_anc_hold_below_per_ul": 750, "neonatal_anc_resume_above_per_ul": 1000}, knowledge
    )
    result = run(on_course(anc("2025-06-24", 600)), site)
    (alert,) = alerts(result, AlertCode.NEUTROPENIA)
    assert alert.severity == Severity.CRITICAL and "below 750" in alert.message
    assert result.settings_used == {
        "neonatal_anc_hold_below_per_ul": 750,
        "neonatal_anc_resume_above_per_ul": 1000,
    }
    assert AlertCode.CONFIG_RANGE in codes(result)


def test_platelets_below_the_label_limit(run: Run) -> None:
    result = run(
        on_course({"date": "2025-06-24", "code": "platelets", "value": 24000, "unit": "/uL"})
    )
    (alert,) = alerts(result, AlertCode.THROMBOCYTOPENIA)
    assert alert.severity == Severity.CRITICAL and "valcyte-us-label" in alert.citations
    # the label row ends with its own full stop: the alert does not add a second one
    assert alert.message == (
        "valganciclovir: platelets 24000 /uL on 2025-06-24 is below 25000: Do not give "
        "valganciclovir with platelets below 25,000/µL (label §5.1). Recheck the platelets on 2025-07-01."
    )  # the label sets no recheck interval: the recheck is due today


def test_hemoglobin_below_the_label_limit(run: Run) -> None:
    result = run(
        on_course({"date": "2025-06-24", "code": "hemoglobin", "value": 7.9, "unit": "g/dL"})
    )
    assert [a.severity for a in alerts(result, AlertCode.ANEMIA)] == [Severity.CRITICAL]


def test_counts_before_the_course_are_not_toxicity(run: Run) -> None:
    assert alerts(run(on_course(anc("2025-06-05", 300))), AlertCode.NEUTROPENIA) == []


# --- renal decline and TDM ----------------------------------------------------------------------------


def creat(day: str, value: float) -> dict[str, Any]:
    return {"date": day, "code": "creatinine", "value": value, "unit": "mg/dL"}


@pytest.mark.parametrize(("latest", "fires"), [(0.45, True), (0.44, False)])
def test_creatinine_rise_to_1_5_times_baseline(run: Run, latest: float, fires: bool) -> None:
    result = run(on_course(creat("2025-06-09", 0.30), creat("2025-06-30", latest)))
    found = alerts(result, AlertCode.DOSE_RENAL_ADJUSTMENT)
    assert bool(found) is fires
    if fires:
        assert "from 0.3 mg/dL (2025-06-09) to 0.45 mg/dL (2025-06-30)" in found[0].message


@pytest.mark.parametrize(("auc", "fires"), [(40, True), (39.9, False)])
def test_auc12_at_40_is_high_exposure(run: Run, auc: float, fires: bool) -> None:
    result = run(
        on_course(
            {"date": "2025-06-24", "code": "ganciclovir_auc12", "value": auc, "unit": "mg·h/L"}
        )
    )
    assert (AlertCode.HIGH_DRUG_EXPOSURE in codes(result)) is fires
    assert result.findings["ganciclovir_auc12"]["target"] == 27


def test_auc12_below_a_site_low_level(run: Run, knowledge: Knowledge) -> None:
    site = parse_settings({"tdm_low_auc12_mg_h_l": 20}, knowledge)
    result = run(
        on_course(
            {"date": "2025-06-24", "code": "ganciclovir_auc12", "value": 18, "unit": "mg·h/L"}
        ),
        site,
    )
    assert AlertCode.CHECK_DOSING_ADHERENCE in codes(result)


def conc(hours: float, value: float, day: str = "2025-06-24") -> dict[str, Any]:
    return {
        "date": day,
        "code": "ganciclovir_concentration",
        "value": value,
        "unit": "mg/L",
        "hours_after_dose": hours,
    }


def test_auc12_from_concentrations_by_the_trapezoid_rule(run: Run) -> None:
    # 0 h 2.0, 1 h 8.0, 3 h 6.0, 12 h 1.5 mg/L:
    # 1 × (2 + 8)/2 = 5; 2 × (8 + 6)/2 = 14; 9 × (6 + 1.5)/2 = 33.75 → 52.75 → 52.8 mg·h/L ≥ 40
    result = run(on_course(conc(0, 2.0), conc(1, 8.0), conc(3, 6.0), conc(12, 1.5)))
    found = result.findings["ganciclovir_auc12"]
    assert found["value"] == Decimal("52.8")
    assert "linear trapezoid rule from 4 concentrations" in found["method"]
    (alert,) = alerts(result, AlertCode.HIGH_DRUG_EXPOSURE)
    assert "Ganciclovir AUC12 52.8 mg·h/L on 2025-06-24 (computed by the linear trapezoid" in (
        alert.message
    )


@pytest.mark.parametrize(("twelve_h", "auc", "fires"), [(1.8, "40.0", True), (1.78, "39.9", False)])
def test_computed_auc12_at_40_is_high_exposure(
    run: Run, twelve_h: float, auc: str, fires: bool
) -> None:
    # 2 × (1 + 5)/2 = 6; 10 × (5 + 1.8)/2 = 34 → 40.0;  10 × (5 + 1.78)/2 = 33.9 → 39.9
    result = run(on_course(conc(0, 1), conc(2, 5), conc(12, twelve_h)))
    assert result.findings["ganciclovir_auc12"]["value"] == Decimal(auc)
    assert (AlertCode.HIGH_DRUG_EXPOSURE in codes(result)) is fires


def test_samples_after_12_h_are_left_out_of_the_auc0_12(run: Run) -> None:
    # the 24 h sample belongs to the next dose: 2 × (0.5 + 4)/2 = 4.5; 4 × (4 + 2.5)/2 = 13;
    # 6 × (2.5 + 0.5)/2 = 9 → 26.5 (below 40)
    result = run(on_course(conc(0, 0.5), conc(2, 4.0), conc(6, 2.5), conc(12, 0.5), conc(24, 9.0)))
    assert result.findings["ganciclovir_auc12"]["value"] == Decimal("26.5")
    assert AlertCode.HIGH_DRUG_EXPOSURE not in codes(result)


@given(st.randoms(use_true_random=False))
@settings(max_examples=25, deadline=None)
def test_the_order_of_the_samples_does_not_change_the_auc(rnd: random.Random) -> None:
    from cmvcds.domain.case import parse_case
    from cmvcds.knowledge import load_knowledge

    knowledge = load_knowledge()
    samples = [conc(0, 2.0), conc(1, 8.0), conc(3, 6.0), conc(12, 1.5), conc(24, 9.0)]
    rnd.shuffle(samples)
    case = parse_case(on_course(*samples), knowledge, today=TODAY)
    result = monitoring.evaluate(case, knowledge, case.assessed_on, SiteSettings())
    assert result.findings["ganciclovir_auc12"]["value"] == Decimal("52.8")


def test_a_profile_without_the_12_h_sample_gives_no_auc(run: Run) -> None:
    result = run(on_course(conc(0, 2.0), conc(1, 8.0), conc(3, 6.0)))
    assert "ganciclovir_auc12" not in result.findings
    assert [m.item for m in result.missing] == ["ganciclovir_concentration:2025-06-24"]


def test_a_concentration_without_its_hour_gives_no_auc(run: Run) -> None:
    untimed = conc(0, 1.0)
    del untimed["hours_after_dose"]
    result = run(on_course(untimed, conc(0, 2.0), conc(12, 1.5)))
    assert "ganciclovir_auc12" not in result.findings
    assert [m.item for m in result.missing] == [
        "ganciclovir_concentration.hours_after_dose:2025-06-24"
    ]


def test_a_later_reported_auc12_wins_over_an_earlier_profile(run: Run) -> None:
    result = run(
        on_course(
            conc(0, 2.0, "2025-06-20"),
            conc(12, 1.5, "2025-06-20"),
            {"date": "2025-06-24", "code": "ganciclovir_auc12", "value": 30, "unit": "mg·h/L"},
        )
    )
    found = result.findings["ganciclovir_auc12"]
    assert found["value"] == 30 and found["method"] == "reported by the laboratory"


# --- transplant: refractory CMV (Chemaly 2019) ------------------------------------------------------------


def test_transplant_refractory_at_day_21(run: Run) -> None:
    result = run(TRANSPLANT)
    (alert,) = alerts(result, AlertCode.REFRACTORY_CMV)
    # log10(80,000 / 5,000) = log10(16) = 1.20 after 21 days
    assert "change 1.20 log10 after 21 days" in alert.message
    d = genotyping(result)
    assert d.outcome == Outcome.RECOMMENDED and d.genes == ("UL97", "UL54")
    # prophylaxis 2025-01-15…07-30 (197 days) + treatment 2025-09-01…09-22 (22 days)
    assert "219 days" in d.reasons[0]
    assert AlertCode.SUSPECTED_RESISTANCE in codes(result)
    assert AlertCode.DOSE_BELOW_TARGET not in codes(result)


def test_transplant_treatment_right_after_prophylaxis_counts_from_the_treatment_start(
    run: Run,
) -> None:
    # Prophylaxis runs to 2025-08-31 and treatment follows on 2025-09-01 (one valganciclovir
    # course): the refractory baseline is still the load before the treatment dose (2025-08-29).
    raw = copy.deepcopy(TRANSPLANT)
    raw["therapy"][0]["stop"] = "2025-08-31"
    result = run(raw)
    (alert,) = alerts(result, AlertCode.REFRACTORY_CMV)
    assert (
        "5000 at the start of therapy (2025-08-29)" in alert.message
        and "after 21 days" in alert.message
    )
    # 2025-01-15 … 2025-09-22 inclusive
    assert "251 days" in genotyping(result).reasons[0]


def test_transplant_probable_refractory_when_the_load_does_not_fall(run: Run) -> None:
    raw = add(until(TRANSPLANT, "2025-09-08"), vl("2025-09-16", 6000), assessed_on="2025-09-16")
    result = run(raw)
    assert AlertCode.PROBABLE_REFRACTORY_CMV in codes(result)
    assert AlertCode.REFRACTORY_CMV not in codes(result)


def test_transplant_exactly_one_log_is_probable_not_refractory(run: Run) -> None:
    raw = drop(TRANSPLANT, "2025-09-22")
    raw = add(raw, vl("2025-09-22", 50000))
    result = run(raw)
    assert AlertCode.PROBABLE_REFRACTORY_CMV in codes(
        result
    ) and AlertCode.REFRACTORY_CMV not in codes(result)


def test_transplant_early_rise_is_expected(run: Run) -> None:
    result = run(until(TRANSPLANT, "2025-09-08"))
    assert AlertCode.EARLY_RISE_EXPECTED in codes(result)
    assert not {AlertCode.REFRACTORY_CMV, AlertCode.PROBABLE_REFRACTORY_CMV} & codes(result)


def test_transplant_underdosed_is_not_refractory(run: Run) -> None:
    raw = copy.deepcopy(TRANSPLANT)
    raw["therapy"][1]["dose_mg"] = 450
    result = run(raw)
    assert AlertCode.DOSE_BELOW_TARGET in codes(result)
    assert AlertCode.CHECK_DOSING_ADHERENCE in codes(result)
    assert AlertCode.REFRACTORY_CMV not in codes(result)


def test_transplant_after_letermovir_short_exposure_is_specialist_review(run: Run) -> None:
    raw = copy.deepcopy(TRANSPLANT)
    raw["therapy"][0] = {
        "drug": "letermovir",
        "dose_mg": 480,
        "every_h": 24,
        "route": "oral",
        "start": "2025-01-15",
        "stop": "2025-07-30",
        "indication": "prophylaxis",
    }
    d = genotyping(run(raw))
    assert d.outcome == Outcome.SPECIALIST_REVIEW
    assert d.genes == ("UL97", "UL54", "UL56", "UL89", "UL51")


def test_transplant_weekly_calendar_of_the_open_course(run: Run) -> None:
    # The immune-status table (transplant/monitoring.yaml): weekly from the start 2025-09-01,
    # from the assessment date on, 28 days ahead for a course without a stop date.
    result = run(TRANSPLANT)
    for event in (
        ScheduleEvent.BLOOD_COUNT,
        ScheduleEvent.RENAL_FUNCTION,
        ScheduleEvent.VIRAL_LOAD,
    ):
        days = sorted(s.earliest for s in result.schedule if s.event == event)
        assert days == [date(2025, 9, 22) + timedelta(weeks=w) for w in range(5)], event


def test_refractory_rules_do_not_apply_to_infants(run: Run) -> None:
    assert not {AlertCode.REFRACTORY_CMV, AlertCode.PROBABLE_REFRACTORY_CMV} & codes(run(INFANT))


# --- invariants ---------------------------------------------------------------------------------------


@given(st.randoms(use_true_random=False))
@settings(max_examples=25, deadline=None)
def test_permuting_observations_and_therapy_changes_nothing(rnd: random.Random) -> None:
    from cmvcds.domain.case import parse_case
    from cmvcds.knowledge import load_knowledge

    knowledge = load_knowledge()
    for base in (INFANT, TRANSPLANT):
        shuffled = copy.deepcopy(base)
        rnd.shuffle(shuffled["observations"])
        rnd.shuffle(shuffled["therapy"])
        one, two = (parse_case(r, knowledge, today=TODAY) for r in (copy.deepcopy(base), shuffled))
        pathways = (
            (monitoring.evaluate, congenital.evaluate) if base is INFANT else (monitoring.evaluate,)
        )
        for pathway in pathways:
            assert pathway(one, knowledge, one.assessed_on, SiteSettings()) == pathway(
                two, knowledge, two.assessed_on, SiteSettings()
            )


@given(
    st.lists(st.integers(min_value=50, max_value=5_000_000), min_size=1, max_size=8),
    st.integers(min_value=1, max_value=5_000_000),
)
@settings(max_examples=40, deadline=None)
def test_adding_a_new_lowest_viral_load_never_creates_a_resistance_alert(
    values: list[int], new: int
) -> None:
    from cmvcds.domain.case import parse_case
    from cmvcds.knowledge import load_knowledge

    knowledge = load_knowledge()
    raw = copy.deepcopy(INFANT)
    raw["therapy"] = raw["therapy"][:1]
    raw["observations"] = [
        vl((date(2025, 6, 12) + timedelta(days=14 * i)).isoformat(), v)
        for i, v in enumerate(values)
    ]
    last = date(2025, 6, 12) + timedelta(days=14 * len(values))
    raw["assessed_on"] = last.isoformat()
    lower = add(raw, vl(last.isoformat(), min(new, *values)))

    def resistance(r: dict[str, Any]) -> bool:
        case = parse_case(r, knowledge, today=TODAY)
        result = monitoring.evaluate(case, knowledge, case.assessed_on, SiteSettings())
        return AlertCode.SUSPECTED_RESISTANCE in codes(result)

    assert not resistance(lower)
