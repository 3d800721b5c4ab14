"""Renal and body-size formulas: literal values worked out by hand, exact at band edges."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from cmvcds.engine.renal import (
    adjusted_body_weight,
    bedside_schwartz,
    ckd_epi_2021,
    cockcroft_gault,
    cockcroft_gault_per_kg,
    ideal_body_weight,
    measured_per_kg,
    mosteller_bsa,
    schwartz_label,
    schwartz_label_k,
)
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import RenalFormulas


@pytest.fixture
def formulas(pack: Knowledge) -> RenalFormulas:
    return pack.table("renal_formulas", RenalFormulas)


def test_cockcroft_gault_is_exact_at_70(formulas: RenalFormulas) -> None:
    """0.85 × 84 × 120 / (72 × 1.7) is 70 on paper; in float it is 69.99999999999999."""
    assert 0.85 * 84 * 120 / (72 * 1.7) < 70  # the trap this module avoids
    crcl = cockcroft_gault(
        formulas, age_years=56, weight_kg=120, creatinine_mg_dl=Decimal("1.7"), sex="female"
    )
    assert crcl.value == 70
    assert crcl.unit == "mL/min"
    assert crcl.formula == "(140 − age) × weight / (72 × creatinine) × 0.85"
    assert crcl.inputs == {
        "age": "56 y",
        "weight": "120 kg (actual)",
        "creatinine": "1.7 mg/dL",
        "sex": "female",
    }


def test_cockcroft_gault_male(formulas: RenalFormulas) -> None:
    crcl = cockcroft_gault(
        formulas, age_years=50, weight_kg=70, creatinine_mg_dl=Decimal("1.5"), sex="male"
    )
    assert crcl.value == Fraction(175, 3)  # 90 × 70 / 108 = 58.33…
    assert crcl.rounded(2) == 58.33
    assert crcl.weight_basis == "actual"


def test_cockcroft_gault_ideal_and_adjusted_weight_policy(formulas: RenalFormulas) -> None:
    # 180 cm man: 70.866 in → IBW = 50 + 2.3 × 10.866 = 74.99 kg
    ibw = ideal_body_weight(formulas, height_cm=180, sex="male")
    assert ibw == Fraction(50) + Fraction("2.3") * (Fraction(180) / Fraction("2.54") - 60)
    assert round(float(ibw), 2) == 74.99
    adjusted = adjusted_body_weight(formulas, ibw=ibw, weight_kg=120)
    assert round(float(adjusted), 2) == 93.0  # 74.992 + 0.4 × 45.008 = 92.995
    assert adjusted_body_weight(formulas, ibw=ibw, weight_kg=60) == 60  # never above actual
    crcl = cockcroft_gault(
        formulas,
        age_years=40,
        weight_kg=120,
        creatinine_mg_dl=1,
        sex="male",
        weight_basis="ideal",
        height_cm=180,
    )
    assert crcl.value == 100 * ibw / 72
    assert crcl.weight_basis == "ideal"
    assert "institutional policy" in crcl.notes[0]
    with pytest.raises(ValueError):
        cockcroft_gault(
            formulas,
            age_years=40,
            weight_kg=120,
            creatinine_mg_dl=1,
            sex="male",
            weight_basis="adjusted",
        )


def test_foscarnet_per_kg_forms(formulas: RenalFormulas) -> None:
    assert (
        cockcroft_gault_per_kg(
            formulas, age_years=68, creatinine_mg_dl=Decimal("0.85"), sex="female"
        ).value
        == 1
    )
    assert cockcroft_gault_per_kg(
        formulas, age_years=68, creatinine_mg_dl=Decimal("2.5"), sex="male"
    ).value == Fraction(2, 5)
    assert measured_per_kg(crcl_ml_min=98, weight_kg=70, citations=("x",)).value == Fraction(7, 5)


def test_ckd_epi_2021(formulas: RenalFormulas) -> None:
    # 142 × (1.0/0.9)^−1.200 × 0.9938^50 = 142 × 0.88120 × 0.73253 = 91.66 (NKF calculator: 92)
    male = ckd_epi_2021(formulas, creatinine_mg_dl=Decimal("1.0"), age_years=50, sex="male")
    assert round(float(male.value), 1) == 91.7
    # woman 30 y, SCr 0.6: 142 × (0.6/0.7)^−0.241 × 0.9938^30 × 1.012 = 142 × 1.03785 × 0.82979 × 1.012 = 123.8
    female = ckd_epi_2021(formulas, creatinine_mg_dl=Decimal("0.6"), age_years=30, sex="female")
    assert round(float(female.value), 1) == 123.8
    assert "0.7" in female.formula and "0.9" in male.formula  # κ 0.7 for women, 0.9 for men


def test_bedside_schwartz(formulas: RenalFormulas) -> None:
    assert bedside_schwartz(
        formulas, height_cm=100, creatinine_mg_dl=Decimal("0.5")
    ).value == Fraction("82.6")


@pytest.mark.parametrize(
    ("age", "sex", "bw", "k"),
    [
        (0, "male", "low", "0.33"),
        (0, "female", "appropriate", "0.45"),
        (1, "male", None, "0.45"),
        (2, "male", None, "0.55"),
        (12, "male", None, "0.55"),
        (13, "male", None, "0.7"),
        (16, "male", None, "0.7"),
        (13, "female", None, "0.55"),
        (16, "female", None, "0.55"),
    ],
)
def test_label_schwartz_k_table(
    formulas: RenalFormulas, age: int, sex: str, bw: str | None, k: str
) -> None:
    row = schwartz_label_k(formulas, age_years=age, sex=sex, birth_weight_for_gestational_age=bw)
    assert row is not None and row.k == Decimal(k)


def test_label_schwartz_k_needs_birth_weight_under_one_year(formulas: RenalFormulas) -> None:
    assert (
        schwartz_label_k(formulas, age_years=0, sex="male", birth_weight_for_gestational_age=None)
        is None
    )
    assert (
        schwartz_label_k(formulas, age_years=17, sex="male", birth_weight_for_gestational_age=None)
        is None
    )


def test_label_schwartz_cap(formulas: RenalFormulas) -> None:
    k = schwartz_label_k(formulas, age_years=6, sex="female", birth_weight_for_gestational_age=None)
    assert k is not None
    capped = schwartz_label(
        formulas, k=k, height_cm=115, creatinine_mg_dl=Decimal("0.3"), cap=Decimal(150)
    )
    assert capped.value == 150
    assert "210.83" in capped.notes[0]


def test_mosteller(formulas: RenalFormulas) -> None:
    assert mosteller_bsa(formulas, height_cm=100, weight_kg=36) == 1  # √(3600/3600)
    assert round(mosteller_bsa(formulas, height_cm=108, weight_kg=18), 4) == Decimal("0.7348")
