"""Implausible values get a clear error, never a recommendation (outside probe8 S1, S2, W1, W4).

Expected values worked from the sources:
- Kimberlin 2015 (Methods): valganciclovir 16 mg/kg twice daily; 6.2 kg → 99.2 mg.
- Valcyte US label §2.3: the largest single dose is 900 mg (doses above it are given as 900 mg).
- WHO child growth standards (``core/plausibility.yaml``): an infant of 4 months weighs more
  than 1 kg; a 3-year-old less than 45 kg (limits well outside the WHO charts).
- Cockcroft-Gault: (140 − 50) × 70 / (72 × 0.1) = 875 mL/min, above the pack's plausible
  200 mL/min; (140 − 50) × 350 / 72 = 437.5 mL/min.
- IgG avidity (CDC lab tests; Canterbury Health Laboratories; clinical notes 1.5.4): a high
  avidity means an infection more than about 3 months (pack: 90 days) before the sample; at
  8+6 weeks (2026-02-20, LMP 2025-12-20) that is on or before 2025-11-22, before the
  periconceptional window (from LMP − 7 days = 2025-12-13), outside AIFA criterion A2.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cmvcds.assess import assess
from cmvcds.domain.case import Case, parse_case
from cmvcds.domain.vocabulary import Outcome
from cmvcds.engine.dosing.patient import DosePatient, dose_patient_from_case
from cmvcds.engine.dosing.recommend import recommend_dose
from cmvcds.errors import CaseFormatError
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY

# --- S2: the infant's weight series ------------------------------------------------------------

#: A 4-month-old on valganciclovir 51 mg every 12 h (probe8 S2, dates moved before TODAY):
#: weights 4.0 → 4.8 → 5.5 kg a month apart, then the weight under test a month later.
INFANT: dict[str, Any] = {
    "id": "probe8-weights",
    "assessed_on": "2026-11-20",
    "context": "congenital",
    "patient": {"sex": "male", "birth_date": "2026-07-15"},
    "congenital": {
        "gestational_age_at_birth": "38+2",
        "birth_weight_kg": 3.2,
        "diagnosis": {"date": "2026-07-17", "specimen": "urine"},
        "manifestations": ["microcephaly"],
    },
    "observations": [
        {"date": "2026-08-15", "code": "weight", "value": 4.0, "unit": "kg"},
        {"date": "2026-09-15", "code": "weight", "value": 4.8, "unit": "kg"},
        {"date": "2026-10-15", "code": "weight", "value": 5.5, "unit": "kg"},
        {"date": "2026-11-14", "code": "weight", "value": 6.2, "unit": "kg"},
    ],
    "therapy": [
        {
            "drug": "valganciclovir",
            "dose_mg": 51,
            "every_h": 12,
            "route": "oral",
            "start": "2026-07-19",
        }
    ],
}


def _infant(knowledge: Knowledge, last_kg: float) -> dict[str, Any]:
    raw = copy.deepcopy(INFANT)
    raw["observations"][3]["value"] = last_kg
    return assess(parse_case(raw, knowledge, today=TODAY), knowledge).to_dict()


def _parse(knowledge: Knowledge, raw: dict[str, Any]) -> Case:
    return parse_case(raw, knowledge, today=TODAY)


def test_a_plausible_series_is_dosed_on_the_latest_weight(knowledge: Knowledge) -> None:
    doc = _infant(knowledge, 6.2)
    (regimen,) = doc["regimens"]
    assert regimen["dose_mg"] == pytest.approx(99.2)  # 16 mg/kg × 6.2 kg
    assert not [a for a in doc["alerts"] if a["code"] == "implausible-input"]
    # the start weight is the birth weight 3.2 kg (≥ 1.8 kg): inside the trial population
    assert not [a for a in doc["alerts"] if a["code"] == "outside-evidence-base"]


def test_a_decimal_slip_below_the_weight_for_age_is_refused(knowledge: Knowledge) -> None:
    raw = copy.deepcopy(INFANT)
    raw["observations"][3]["value"] = 0.62
    with pytest.raises(CaseFormatError) as refused:
        _parse(knowledge, raw)
    (problem,) = refused.value.problems  # type: ignore[attr-defined]
    assert problem.startswith("observations[3].value: 0.62 kg is implausible at 122 days of age")
    assert "at least 1 kg below 366 days" in problem


@pytest.mark.parametrize(("last_kg", "percent"), [(18.0, "327"), (3.5, "64")])
def test_a_weight_far_from_the_previous_one_gives_no_dose(
    knowledge: Knowledge, last_kg: float, percent: str
) -> None:
    """18 kg a month after 5.5 kg (×3.3, beyond a doubling a month) or 3.5 kg (64 %, below 70 %):
    no dose, no dose-check alert against the order; the weight is named to check."""
    doc = _infant(knowledge, last_kg)
    (decision,) = doc["decisions"]
    assert decision["outcome"] == "insufficient_data"
    assert doc["regimens"] == []
    codes = {a["code"] for a in doc["alerts"]}
    assert "dose-above-target" not in codes and "dose-below-target" not in codes
    (alert,) = [a for a in doc["alerts"] if a["code"] == "implausible-input"]
    assert alert["severity"] == "critical"
    assert f"{last_kg} kg on 2026-11-14" in alert["message"]
    assert f"to {percent} % of 5.5 kg weighed 30 days earlier (2026-10-15)" in alert["message"]
    (missing,) = [m for m in doc["missing"] if m["item"] == "weight"]
    assert missing["why"].startswith("Check the weight")
    # the other parts of the answer are still given: the monitoring schedule
    assert doc["schedule"]


def test_the_start_weight_is_the_weight_at_the_start(knowledge: Knowledge) -> None:
    """The trial-population alert names the weight at the start (the 1.6 kg birth weight of a
    course begun on day 4), not the current 3.0 kg (probe8 S2's 'weight 0.62 kg at the start')."""
    raw = copy.deepcopy(INFANT)
    raw["congenital"]["birth_weight_kg"] = 1.6
    raw["observations"] = [{"date": "2026-08-15", "code": "weight", "value": 3.0, "unit": "kg"}]
    raw["assessed_on"] = "2026-08-20"
    doc = assess(_parse(knowledge, raw), knowledge).to_dict()
    (alert,) = [a for a in doc["alerts"] if a["code"] == "outside-evidence-base"]
    assert "weight 1.6 kg at the start (trial: ≥ 1.8 kg)" in alert["message"]
    assert "3.0 kg" not in alert["message"]


def test_an_adult_weight_halved_in_a_month_gives_no_renal_dose(knowledge: Knowledge) -> None:
    """Cockcroft-Gault reads the weight: 70 kg then 35 kg 30 days later is doubted (50 % < 70 %)."""
    raw = {
        "id": "adult-weights",
        "assessed_on": "2026-11-20",
        "context": "immunocompromised",
        "patient": {"sex": "male", "age_years": 50},
        "observations": [
            {"date": "2026-10-15", "code": "weight", "value": 70, "unit": "kg"},
            {"date": "2026-11-14", "code": "weight", "value": 35, "unit": "kg"},
            {"date": "2026-11-14", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
        ],
    }
    patient = dose_patient_from_case(_parse(knowledge, raw), date(2026, 11, 20))
    assert patient.previous_weight == (date(2026, 10, 15), Decimal(70))
    result = recommend_dose(patient, "ganciclovir", "induction", knowledge)
    assert result.outcome is Outcome.INSUFFICIENT_DATA and result.regimen is None
    assert result.renal is None  # no clearance computed on the doubted weight
    assert [m.item for m in result.missing] == ["weight"]


# --- S1: the weight-for-age check whatever form the age takes --------------------------------


@pytest.mark.parametrize(
    ("patient", "problem"),
    [
        (
            {"age_years": 0.05, "weight_kg": 90},  # 18 days
            "patient.weight_kg: 90 kg is implausible at about 18 days of age (age_years 0.05 on "
            "2026-11-21) (at most 10 kg below 92 days)",
        ),
        (
            {"birth_date": str(TODAY - timedelta(days=18)), "weight_kg": 90},
            "patient.weight_kg: 90 kg is implausible at 18 days of age (at most 10 kg below 92 days)",
        ),
        (
            {"age_years": 3, "weight_kg": 80},  # probe8 W4: a transplant 3-year-old of 80 kg
            "patient.weight_kg: 80 kg is implausible at about 1095 days of age (age_years 3 on "
            "2026-11-21) (at most 45 kg below 1827 days)",
        ),
    ],
)
def test_weight_for_age_with_age_in_years_or_birth_date(
    knowledge: Knowledge, patient: dict[str, Any], problem: str
) -> None:
    raw = {"id": "x", "context": "transplant", "patient": {"sex": "male", **patient}}
    with pytest.raises(CaseFormatError) as refused:
        _parse(knowledge, raw)
    assert refused.value.problems == [problem]  # type: ignore[attr-defined]


def test_an_adult_given_in_years_is_not_checked_against_child_weights(knowledge: Knowledge) -> None:
    raw = {"id": "x", "context": "transplant", "patient": {"age_years": 6, "weight_kg": 80}}
    assert _parse(knowledge, raw).patient.weight_kg == 80  # above the last band (1827 days)


def _infant_patient(weight: str) -> DosePatient:
    return DosePatient(
        age_years=Decimal("0.5"),
        age_days=182,
        sex="male",
        weight_kg=Decimal(weight),
        height_cm=None,
        creatinine_mg_dl=None,
        egfr_ml_min_173=None,
        measured_crcl_ml_min=None,
        age_months=6,
    )


def test_a_per_kg_infant_dose_never_exceeds_the_label_maximum(knowledge: Knowledge) -> None:
    """Behind the parser: 16 mg/kg × 60 kg = 960 mg is above the label's 900 mg (§2.3)."""
    capped = recommend_dose(_infant_patient("60"), "valganciclovir", "congenital", knowledge)
    assert capped.regimen is not None and capped.regimen.dose_mg == 900
    assert capped.regimen.dose_mg_per_kg is None  # no longer 16 mg/kg
    (alert,) = [a for a in capped.alerts if a.code == "implausible-input"]
    assert "16 mg/kg × 60 kg = 960 mg is above the largest single dose of the label, 900 mg" in (
        alert.message
    )
    assert "valcyte-us-label" in capped.citations
    plain = recommend_dose(_infant_patient("6"), "valganciclovir", "congenital", knowledge)
    assert plain.regimen is not None and plain.regimen.dose_mg == 96  # 16 × 6, uncapped
    assert "valcyte-us-label" not in plain.citations


# --- W4: maternal age, computed clearance ----------------------------------------------------


@pytest.mark.parametrize(("birth", "age"), [("1946-01-01", 80), ("2021-01-01", 5)])
def test_a_pregnancy_at_an_implausible_age_is_refused(
    knowledge: Knowledge, birth: str, age: int
) -> None:
    raw = {
        "id": "x",
        "context": "pregnancy",
        "patient": {"sex": "female", "birth_date": birth},
        "pregnancy": {"lmp": "2026-09-01"},
    }
    with pytest.raises(CaseFormatError) as refused:
        _parse(knowledge, raw)
    assert refused.value.problems == [  # type: ignore[attr-defined]
        f"patient.birth_date: a pregnancy at {age} years of age is implausible (accepted "
        "maternal age 10–60 years); check the birth date or age"
    ]


def _adult(knowledge: Knowledge, weight: float, creatinine: float) -> DosePatient:
    raw = {
        "id": "x",
        "context": "immunocompromised",
        "patient": {"sex": "male", "age_years": 50, "weight_kg": weight},
        "observations": [
            {"date": "2026-11-20", "code": "creatinine", "value": creatinine, "unit": "mg/dL"}
        ],
    }
    return dose_patient_from_case(_parse(knowledge, raw), TODAY)


@pytest.mark.parametrize(
    ("drug", "weight", "creatinine", "shown"),
    [("foscarnet", 70, 0.1, "875 mL/min"), ("ganciclovir", 350, 1.0, "438 mL/min")],
)
def test_an_implausible_computed_clearance_gives_no_dose(
    knowledge: Knowledge, drug: str, weight: float, creatinine: float, shown: str
) -> None:
    result = recommend_dose(_adult(knowledge, weight, creatinine), drug, "induction", knowledge)
    assert result.outcome is Outcome.INSUFFICIENT_DATA and result.regimen is None
    (alert,) = [a for a in result.alerts if a.code == "implausible-input"]
    assert shown in alert.message and "above the plausible 200 mL/min" in alert.message
    assert "assumed: the actual body weight (label)" in alert.message
    assert f"creatinine {creatinine} mg/dL" in alert.message
    assert [m.item for m in result.missing] == ["creatinine"]
    # the same patient with a plausible creatinine is dosed
    dosed = recommend_dose(_adult(knowledge, 70, 1.0), drug, "induction", knowledge)
    assert dosed.outcome is Outcome.RECOMMENDED


# --- W1: IgG avidity in a seroconversion window ------------------------------------------------

PREGNANT: dict[str, Any] = {
    "id": "probe8-avidity",
    "assessed_on": "2026-03-02",
    "context": "pregnancy",
    "patient": {"sex": "female", "birth_date": "1992-04-11", "weight_kg": 64},
    "pregnancy": {"lmp": "2025-12-20", "fetuses": 1},
    "observations": [
        {"date": "2024-01-10", "code": "cmv_igg", "result": "negative"},
        {"date": "2026-02-20", "code": "cmv_igg", "result": "positive"},
        {"date": "2026-02-20", "code": "cmv_igm", "result": "positive"},
        {"date": "2026-02-20", "code": "cmv_igg_avidity", "result": "high"},
        {"date": "2026-02-20", "code": "creatinine", "value": 0.62, "unit": "mg/dL"},
        {"date": "2026-02-20", "code": "egfr", "value": 118, "unit": "mL/min/1.73m2"},
    ],
}


@pytest.fixture
def pregnant(knowledge: Knowledge) -> Callable[..., dict[str, Any]]:
    def run(avidity: str | None = "high", negative: str = "2024-01-10") -> dict[str, Any]:
        raw = copy.deepcopy(PREGNANT)
        raw["observations"][0]["date"] = negative
        if avidity is None:
            raw["observations"].pop(3)
        else:
            raw["observations"][3]["result"] = avidity
        return assess(parse_case(raw, knowledge, today=TODAY), knowledge).to_dict()

    return run


def _prevention(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["decisions"][0]


def test_high_avidity_places_the_onset_before_conception(
    pregnant: Callable[..., dict[str, Any]],
) -> None:
    doc = pregnant("high")
    decision = _prevention(doc)
    assert decision["outcome"] == "specialist_review"
    assert doc["regimens"] == []
    reasons = " ".join(decision["reasons"])
    assert "IgG avidity high on 2026-02-20" in reasons and "on or before 2025-11-22" in reasons
    assert "nothing positively shows a preconceptional onset" not in reasons
    (alert,) = [a for a in doc["alerts"] if a["code"] == "boundary-case"]
    assert "high IgG avidity on 2026-02-20" in alert["message"]
    assert "before the periconceptional window (from 2025-12-13)" in alert["message"]
    assert "I-14" in decision["rules"]


def test_high_avidity_before_the_last_negative_is_contradictory(
    pregnant: Callable[..., dict[str, Any]],
) -> None:
    """IgG negative on 2025-12-01 cannot precede an onset on or before 2025-11-22."""
    doc = pregnant("high", negative="2025-12-01")
    assert _prevention(doc)["outcome"] == "insufficient_data"
    (alert,) = [a for a in doc["alerts"] if a["code"] == "assay-mismatch"]
    assert "IgG avidity high on 2026-02-20" in alert["message"]
    assert "CMV IgG negative on 2025-12-01" in alert["message"]


@pytest.mark.parametrize(
    ("avidity", "named"),
    [
        (
            "low",
            "the IgG avidity low on 2026-02-20 is consistent with an infection within about 90 days",
        ),
        ("intermediate", "the IgG avidity intermediate on 2026-02-20 does not date the infection"),
        (None, "(earlier stored samples, avidity, symptoms)"),
    ],
)
def test_low_or_intermediate_avidity_keeps_the_window_and_is_named(
    pregnant: Callable[..., dict[str, Any]], avidity: str | None, named: str
) -> None:
    """A low avidity is consistent with a recent onset and an intermediate one does not date it:
    the seroconversion window (2024-01-11 to 2026-02-20) stays, counted within the window
    (I-2.3, flagged), and the flag names the avidity given instead of asking for it."""
    doc = pregnant(avidity)
    assert _prevention(doc)["outcome"] == "recommended"
    (alert,) = [a for a in doc["alerts"] if a["code"] == "boundary-case"]
    assert named in alert["message"]
