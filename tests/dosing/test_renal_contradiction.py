"""Renal measures that disagree, and an obese patient's high Cockcroft-Gault (outside probe11
S4, W3, U3).

Expected values worked from the sources:
- VALCYTE US label §2.5 Table 2, induction: CrCl ≥ 60 mL/min 900 mg twice daily; 40–59 450 mg
  twice daily; 25–39 450 mg once daily.
- Cockcroft-Gault 1976: (140 − age) × weight / (72 × creatinine); the baseline patient (40 y,
  72 kg, creatinine 1.0) has 100 mL/min; at 80 y exactly 60, at 81 y 59.
- VISTIDE US label §4: contraindicated at CrCl ≤ 55 mL/min (85 y, creatinine 1.0: 55 exactly).
- Devine ideal weight, man of 170 cm: 50 + 2.3 × (170 / 2.54 − 60) = 65.9 kg; adjusted weight
  IBW + 0.4 × (150 − IBW) = 99.5 kg; CG at 45 y, creatinine 0.9: 219.9 (actual), 145.9 (adjusted).
  BMI 150 / 1.7² = 51.9, within the pack's obese_bmi_max 60 (review12 S3).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cmvcds.domain.vocabulary import AlertCode, Outcome
from cmvcds.engine.dosing import recommend_dose
from cmvcds.knowledge import Knowledge
from tests.dosing.conftest import make_patient


def _vgc(knowledge: Knowledge, **changes: object):  # type: ignore[no-untyped-def]
    return recommend_dose(make_patient(**changes), "valganciclovir", "induction", knowledge)


def test_a_measured_clearance_and_a_creatinine_giving_other_doses_give_no_dose(
    pack: Knowledge,
) -> None:
    """probe11 b15 in the calculator: measured 100 mL/min against CG 50 mL/min (creatinine 2.0)."""
    result = _vgc(pack, measured_crcl_ml_min=100, creatinine_mg_dl="2.0")
    assert result.outcome is Outcome.INSUFFICIENT_DATA and result.regimen is None
    assert result.renal is None  # neither measure is the one the dose is chosen on
    (alert,) = [a for a in result.alerts if a.code is AlertCode.CONTRADICTORY_INPUT]
    assert alert.severity.value == "critical"
    assert "100.0 mL/min" in alert.message and "50.0 mL/min" in alert.message
    assert "900 mg every 12 h (CrCl ≥ 60)" in alert.message
    assert "450 mg every 12 h (CrCl ≥ 40 and < 60)" in alert.message
    assert [m.item for m in result.missing] == ["renal_function"]


def test_measures_giving_the_same_dose_are_dosed_and_the_measure_is_named(pack: Knowledge) -> None:
    result = _vgc(pack, measured_crcl_ml_min=100, creatinine_mg_dl="1.0")
    assert result.outcome is Outcome.RECOMMENDED
    assert result.regimen is not None and result.regimen.dose_mg == 900
    assert result.renal is not None and result.renal.clearance.method == "measured-24h"
    assert result.renal_basis is not None
    assert "measured 24-h creatinine clearance 100.0 mL/min" in result.renal_basis
    assert "gives the same dose" in result.renal_basis
    assert not [a for a in result.alerts if a.code is AlertCode.CONTRADICTORY_INPUT]


@pytest.mark.parametrize(
    ("measured", "age", "contradictory"),
    [(60, 80, False), (59, 80, True), (60, 81, True), (59, 81, False)],
)
def test_the_band_edge_decides_a_contradiction_exactly(
    pack: Knowledge, measured: int, age: int, contradictory: bool
) -> None:
    """CG is exactly 60 at 80 y and 59 at 81 y (creatinine 1.0); the ≥ 60 band edge splits them."""
    result = _vgc(pack, measured_crcl_ml_min=measured, age_years=age, creatinine_mg_dl="1.0")
    flagged = any(a.code is AlertCode.CONTRADICTORY_INPUT for a in result.alerts)
    assert flagged is contradictory
    assert (result.outcome is Outcome.INSUFFICIENT_DATA) is contradictory


def test_a_label_check_met_by_one_measure_only_is_a_contradiction(pack: Knowledge) -> None:
    """Cidofovir: measured 56 mL/min is allowed, CG 55 (85 y) is contraindicated (≤ 55)."""
    result = recommend_dose(
        make_patient(
            measured_crcl_ml_min=56,
            age_years=85,
            creatinine_mg_dl="1.0",
            urine_protein_mg_dl=Decimal(0),
        ),
        "cidofovir",
        "induction",
        pack,
    )
    assert result.outcome is Outcome.INSUFFICIENT_DATA and result.regimen is None
    assert any(a.code is AlertCode.CONTRADICTORY_INPUT for a in result.alerts)


def test_foscarnet_per_kg_measures_are_compared_too(pack: Knowledge) -> None:
    """Measured 100 mL/min ÷ 72 kg = 1.39 against CG per kg (140 − 40) / (72 × 3.0) = 0.46."""
    result = recommend_dose(
        make_patient(measured_crcl_ml_min=100, creatinine_mg_dl="3.0"), "foscarnet", "induction", pack
    )
    assert result.outcome is Outcome.INSUFFICIENT_DATA
    assert any(a.code is AlertCode.CONTRADICTORY_INPUT for a in result.alerts)


def _obese(**changes: object):  # type: ignore[no-untyped-def]
    base = {"age_years": 45, "weight_kg": 150, "height_cm": 170, "creatinine_mg_dl": "0.9"}
    return make_patient(**{**base, **changes})


def test_an_obese_patients_high_clearance_is_dosed_when_both_weights_give_one_dose(
    pack: Knowledge,
) -> None:
    result = recommend_dose(_obese(), "valganciclovir", "induction", pack)
    assert result.outcome is Outcome.RECOMMENDED
    assert result.regimen is not None and result.regimen.dose_mg == 900
    assert result.regimen.every_h == 12
    assert not [a for a in result.alerts if a.code is AlertCode.IMPLAUSIBLE_INPUT]
    assert result.renal_basis is not None
    assert "explained by obesity" in result.renal_basis and "145.9 mL/min" in result.renal_basis


def test_without_height_a_clearance_above_200_is_still_refused(pack: Knowledge) -> None:
    result = recommend_dose(_obese(height_cm=None), "valganciclovir", "induction", pack)
    assert result.outcome is Outcome.INSUFFICIENT_DATA
    assert any(a.code is AlertCode.IMPLAUSIBLE_INPUT for a in result.alerts)


def test_above_200_on_the_adjusted_weight_too_is_still_refused(pack: Knowledge) -> None:
    """Creatinine 0.4: CG 494.8 (actual) and 328.1 (adjusted) mL/min: not explained by obesity."""
    result = recommend_dose(_obese(creatinine_mg_dl="0.4"), "valganciclovir", "induction", pack)
    assert result.outcome is Outcome.INSUFFICIENT_DATA
    assert any(a.code is AlertCode.IMPLAUSIBLE_INPUT for a in result.alerts)


def test_a_per_kg_dose_on_an_obese_weight_says_so(pack: Knowledge) -> None:
    """probe11 D19: foscarnet in a woman of 140 kg, 160 cm (IBW 45.5 + 2.3 × (160/2.54 − 60) = 52.4 kg)."""
    obese = make_patient(age_years=45, sex="female", weight_kg=140, height_cm=160)
    result = recommend_dose(obese, "foscarnet", "induction", pack)
    assert result.outcome is Outcome.RECOMMENDED
    assert any("per-kg dose is on the actual weight 140 kg" in r and "52.4 kg" in r for r in result.reasons)
    lean = recommend_dose(make_patient(), "foscarnet", "induction", pack)
    assert not any("per-kg dose is on the actual weight" in r for r in lean.reasons)


# review12 S1 (/tmp/review12/REPORT.md, repro r62/r63): the contradiction check is not skipped
# when Cockcroft-Gault cannot be computed. VALCYTE US label §2.5 Table 2, prevention column:
# CrCl ≥ 60 mL/min 900 mg once daily; 25–39 450 mg every 2 days; 10–24 450 mg twice weekly.
# A 50-year-old man of 70 kg with creatinine 3.0: CG (140 − 50) × 70 / (72 × 3.0) = 29.2 mL/min.


def _prevention(knowledge: Knowledge, **changes: object):  # type: ignore[no-untyped-def]
    return recommend_dose(
        make_patient(**{"age_years": 50, "weight_kg": 70, "transplant_organ": "kidney", **changes}),
        "valganciclovir",
        "prophylaxis",
        knowledge,
    )


@pytest.mark.parametrize(("absent", "item"), [("weight_kg", "weight"), ("sex", "sex")])
def test_a_measured_clearance_beside_a_creatinine_not_comparable_is_not_dosed(
    pack: Knowledge, absent: str, item: str
) -> None:
    """review12 S1: measured 100 mL/min with creatinine 3.0 and no weight (or sex) gave
    900 mg daily silently; the input that would allow the comparison is asked for instead."""
    result = _prevention(pack, measured_crcl_ml_min=100, creatinine_mg_dl="3.0", **{absent: None})
    assert result.outcome is Outcome.INSUFFICIENT_DATA and result.regimen is None
    (missing,) = [m for m in result.missing if m.item == item]
    assert "not compared" in missing.why and "creatinine 3.0 mg/dL" in missing.why


def test_with_all_inputs_the_same_case_is_a_contradiction(pack: Knowledge) -> None:
    result = _prevention(pack, measured_crcl_ml_min=100, creatinine_mg_dl="3.0")
    assert result.outcome is Outcome.INSUFFICIENT_DATA
    assert any(a.code is AlertCode.CONTRADICTORY_INPUT for a in result.alerts)
    assert "450 mg every 48 h (CrCl ≥ 25 and < 40)" in "".join(a.message for a in result.alerts)


@pytest.mark.parametrize(
    ("egfr", "contradictory"), [(20, True), (59, True), (60, False), (100, False)]
)
def test_a_reported_egfr_in_another_band_is_a_contradiction(
    pack: Knowledge, egfr: int, contradictory: bool
) -> None:
    """review12 S1: an eGFR of 20 beside a measured 100 mL/min gave 900 mg daily ("eGFR not
    used"); the eGFR is compared as a check, the ≥ 60 band edge deciding."""
    result = _prevention(pack, measured_crcl_ml_min=100, egfr_ml_min_173=egfr)
    flagged = any(a.code is AlertCode.CONTRADICTORY_INPUT for a in result.alerts)
    assert flagged is contradictory
    if contradictory:
        assert result.outcome is Outcome.INSUFFICIENT_DATA and result.regimen is None
    else:
        assert result.regimen is not None and result.regimen.dose_mg == 900
        assert result.renal_basis is not None and "eGFR" in result.renal_basis
        assert not [name for name, _ in result.inputs_not_used if name == "egfr"]


def test_without_weight_a_concordant_egfr_allows_the_comparison(pack: Knowledge) -> None:
    """The brief's alternative: no weight, but an eGFR in the measured value's band."""
    result = _prevention(
        pack, measured_crcl_ml_min=100, creatinine_mg_dl="3.0", weight_kg=None, egfr_ml_min_173=95
    )
    assert result.outcome is Outcome.RECOMMENDED
    assert result.renal_basis is not None and "needs weight" in result.renal_basis


# review12 S3 (repro r64): a 90 kg man of 180 cm typed as 198 (pounds) looked obese and was dosed
# ganciclovir 5 mg/kg on 198 kg (990 mg). Obesity explains a clearance above 200 mL/min only for a
# weight plausible for the height: BMI at most the pack's obese_bmi_max (60). At 170 cm BMI 60 is
# 173.4 kg (CG at 45 y, creatinine 0.9: 95 × 173.4 / 64.8 = 254.2 mL/min, adjusted 159.7).


def test_a_weight_in_pounds_is_refused_again_for_a_per_kg_drug(pack: Knowledge) -> None:
    patient = make_patient(
        age_years=60, weight_kg=198, height_cm=180, creatinine_mg_dl="1.0", sex="male"
    )
    result = recommend_dose(patient, "ganciclovir", "induction", pack)
    assert result.outcome is Outcome.INSUFFICIENT_DATA and result.regimen is None
    (alert,) = [a for a in result.alerts if a.code is AlertCode.IMPLAUSIBLE_INPUT]
    assert alert.severity.value == "critical" and "a weight in pounds" in alert.message
    assert any("61.1 kg/m²" in r for r in result.reasons)


@pytest.mark.parametrize(("weight", "explained"), [("173.4", True), ("173.5", False)])
def test_the_bmi_limit_of_the_obesity_explanation_is_exact(
    pack: Knowledge, weight: str, explained: bool
) -> None:
    result = recommend_dose(_obese(weight_kg=weight), "valganciclovir", "induction", pack)
    refused = any(a.code is AlertCode.IMPLAUSIBLE_INPUT for a in result.alerts)
    assert refused is not explained
    assert (result.outcome is Outcome.RECOMMENDED) is explained


# review12 S3, the gap fixr12 left: an 80 kg man typed as 176 (pounds) at 180 cm is BMI
# 176 / 1.8² = 54.3, under obese_bmi_max, and his Cockcroft-Gault (60 y, creatinine 1.0:
# 80 × 176 / 72 = 195.6 mL/min) is under 200: nothing refuses it. A per-kg dose at BMI ≥ 40 (WHO
# class III obesity, the pack's weight_confirmation row) is given with a warning to confirm the
# unit; 72.9 kg at 135 cm is BMI 40.0 (the boundary), 72.8 kg is 39.9.


@pytest.mark.parametrize(
    ("weight", "height", "warned"),
    [("176", "180", True), ("72.9", "135", True), ("72.8", "135", False), ("80", "180", False)],
)
def test_a_per_kg_dose_at_class_iii_obesity_asks_to_confirm_the_weight_unit(
    pack: Knowledge, weight: str, height: str, warned: bool
) -> None:
    patient = make_patient(
        age_years=60, weight_kg=weight, height_cm=height, creatinine_mg_dl="1.0", sex="male"
    )
    result = recommend_dose(patient, "ganciclovir", "induction", pack)
    assert result.outcome is Outcome.RECOMMENDED  # a warning only: real obese patients are dosed
    confirm = [a for a in result.alerts if a.code is AlertCode.CONFIRM_WEIGHT_UNIT]
    assert bool(confirm) is warned
    if warned:
        assert confirm[0].severity.value == "warning" and "in kilograms" in confirm[0].message


def test_a_fixed_dose_asks_no_weight_unit(pack: Knowledge) -> None:
    """Valganciclovir induction is 900 mg whatever the weight: the weight's unit does not change
    the dose (it may change the clearance, which the plausibility rules check)."""
    patient = make_patient(age_years=60, weight_kg="176", height_cm="180", creatinine_mg_dl="1.0", sex="male")
    result = recommend_dose(patient, "valganciclovir", "induction", pack)
    assert not any(a.code is AlertCode.CONFIRM_WEIGHT_UNIT for a in result.alerts)
