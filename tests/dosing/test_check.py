"""check_dose: an order against the labelled dose, with the suggested dose in the alert."""

from __future__ import annotations

from decimal import Decimal

from cmvcds.domain.vocabulary import AlertCode
from cmvcds.engine.dosing import PrescribedDose, check_dose
from cmvcds.knowledge import Knowledge
from tests.dosing.conftest import make_patient


def order(**fields: object) -> PrescribedDose:
    base: dict[str, object] = {
        "drug": "valganciclovir",
        "indication": "induction",
        "dose_mg": Decimal(900),
        "every_h": Decimal(12),
    }
    base.update(fields)
    return PrescribedDose(**base)  # type: ignore[arg-type]


def test_full_dose_with_normal_renal_function_matches(pack: Knowledge) -> None:
    verdict = check_dose(order(), make_patient(), pack)
    assert verdict.status == "matches"
    assert verdict.alerts == ()


def test_full_dose_at_crcl_50_needs_renal_adjustment(pack: Knowledge) -> None:
    verdict = check_dose(order(), make_patient(creatinine_mg_dl=2), pack)  # CrCl 50
    assert verdict.status == "renal-adjustment"
    assert verdict.alerts[0].code is AlertCode.DOSE_RENAL_ADJUSTMENT
    assert (
        verdict.suggested is not None
        and verdict.suggested.dose_mg == 450
        and verdict.suggested.every_h == 12
    )
    assert "450 mg twice daily (900 mg/day; CrCl ≥ 40 and < 60 mL/min" in verdict.alerts[0].message


def test_half_dose_with_normal_function_is_below_target(pack: Knowledge) -> None:
    verdict = check_dose(order(dose_mg=Decimal(450)), make_patient(), pack)
    assert verdict.status == "below"
    assert verdict.alerts[0].code is AlertCode.DOSE_BELOW_TARGET
    assert (
        "Ordered 450 mg twice daily (900 mg/day) is below the labelled 900 mg twice daily (1800 mg/day"
        in verdict.alerts[0].message
    )


def test_same_daily_amount_split_differently_is_flagged(pack: Knowledge) -> None:
    verdict = check_dose(order(dose_mg=Decimal(1800), every_h=Decimal(24)), make_patient(), pack)
    assert verdict.status == "above"
    assert verdict.alerts[0].code is AlertCode.DOSE_ABOVE_TARGET


def test_mg_per_kg_order_within_tolerance(pack: Knowledge) -> None:
    # ganciclovir 5 mg/kg q12h for 72 kg = 360 mg; an order of 350 mg is within 10%
    verdict = check_dose(
        order(drug="ganciclovir", dose_mg=Decimal(350), route="iv"), make_patient(), pack
    )
    assert verdict.status == "matches"
    per_kg = check_dose(
        order(drug="ganciclovir", dose_mg=None, dose_mg_per_kg=Decimal(5), route="iv"),
        make_patient(),
        pack,
    )
    assert per_kg.status == "matches"


def test_infant_weight_gain_makes_the_dose_low(pack: Knowledge) -> None:
    """Congenital: 56 mg (16 mg/kg at 3.5 kg) is below target once the infant weighs 4.5 kg (72 mg)."""
    infant = make_patient(age_years=0, weight_kg="4.5", creatinine_mg_dl=None)
    verdict = check_dose(order(indication="congenital", dose_mg=Decimal(56)), infant, pack)
    assert verdict.status == "below"
    assert verdict.suggested is not None and verdict.suggested.dose_mg == Decimal("72.0")


def test_no_recommendation_passes_the_refusal_on(pack: Knowledge) -> None:
    verdict = check_dose(order(), make_patient(dialysis="hemodialysis"), pack)
    assert verdict.status == "no-recommendation"
    assert verdict.suggested is None
    assert "Excluded" in verdict.reasons[0]
    document = verdict.to_dict()
    assert document["recommendation"]["outcome"] == "excluded"
