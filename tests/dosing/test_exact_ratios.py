"""The integer-ratio arithmetic of ``check_dose`` and ``DoseRegimen.daily_ratio`` gives the
answers of the ``Fraction`` arithmetic it replaced (issue 20): the same verdict, the same figures
in the messages, the same floats, on real recommendations and a grid of orders around them."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from cmvcds.domain.vocabulary import Outcome
from cmvcds.engine.dosing import DoseRegimen, PrescribedDose, check_dose, recommend_dose
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import DosingPolicy
from tests.dosing.conftest import make_patient

#: (drug, indication, patient changes): recommendations with whole, per-kg, weekly and odd doses.
TARGETS = [
    ("valganciclovir", "induction", {}),
    ("valganciclovir", "induction", {"creatinine_mg_dl": 2}),
    ("valganciclovir", "prophylaxis", {"creatinine_mg_dl": "3.3", "transplant_organ": "kidney"}),
    ("ganciclovir", "induction", {"weight_kg": "71.3"}),
    ("ganciclovir", "induction", {"creatinine_mg_dl": "4.1", "weight_kg": 58}),
    ("foscarnet", "induction", {"creatinine_mg_dl": "1.7", "weight_kg": "66.6"}),
    ("cidofovir", "induction", {"weight_kg": "81.2", "urine_protein_mg_dl": 30}),
    ("letermovir", "prophylaxis", {"transplant_organ": "hsct"}),
    ("maribavir", "refractory", {}),
]

#: Orders around each target: the dose times these factors, at these intervals.
FACTORS = ["0.5", "0.89", "0.9", "0.91", "1", "1.09", "1.1", "1.11", "1.5", "2", "2.01", "4"]
INTERVALS = ["8", "12", "24", "36", "48", "168"]


def _show(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.1f}"


def _reference(order: PrescribedDose, target: DoseRegimen, policy: DosingPolicy) -> tuple:
    """The verdict, totals and ratio as the ``Fraction`` code computed them."""
    assert order.dose_mg is not None and order.every_h is not None
    ordered_mg = Fraction(order.dose_mg)
    per_week = Fraction(168) / Fraction(order.every_h)
    ordered_week = ordered_mg * per_week
    target_week = Fraction(target.dose_mg) * target.doses_per_week
    tolerance = Fraction(policy.check_tolerance_fraction)

    def compare(value: Fraction, reference: Fraction) -> int:
        if value > reference * (1 + tolerance):
            return 1
        if value < reference * (1 - tolerance):
            return -1
        return 0

    direction = compare(ordered_week, target_week) or compare(ordered_mg, Fraction(target.dose_mg))
    daily = per_week >= 7 and target.doses_per_week >= 7
    totals = (
        (_show(ordered_week / 7), _show(target.daily_mg))
        if daily
        else (_show(ordered_week), _show(target_week))
    )
    return direction, totals, _show(ordered_mg), _show(ordered_week / target_week)


@pytest.mark.parametrize(("drug", "indication", "changes"), TARGETS)
def test_check_dose_matches_the_fraction_arithmetic(
    pack: Knowledge, drug: str, indication: str, changes: dict[str, object]
) -> None:
    patient = make_patient(**changes)
    recommendation = recommend_dose(patient, drug, indication, pack)
    assert recommendation.outcome is Outcome.RECOMMENDED and recommendation.regimen is not None
    target = recommendation.regimen
    policy = pack.table("dosing_policy", DosingPolicy)
    statuses = {1: {"above", "renal-adjustment"}, -1: {"below"}, 0: {"matches"}}
    for factor in FACTORS:
        for every_h in INTERVALS:
            order = PrescribedDose(
                drug=drug,
                indication=indication,
                dose_mg=(target.dose_mg * Decimal(factor)).normalize(),
                every_h=Decimal(every_h),
                route=target.route,
            )
            verdict = check_dose(order, patient, pack)
            direction, totals, ordered, ratio = _reference(order, target, policy)
            assert verdict.status in statuses[direction], (order, verdict.status)
            text = verdict.reasons[0]
            assert f"Ordered {ordered} mg " in text
            assert all(f"({total} mg/" in text or f" ({total} mg/" in text for total in totals)
            if direction > 0 and verdict.alerts[0].severity.value != "warning":
                assert f"The order is {ratio}×" in text


@pytest.mark.parametrize(("drug", "indication", "changes"), TARGETS)
def test_daily_ratio_is_the_exact_daily_amount(
    pack: Knowledge, drug: str, indication: str, changes: dict[str, object]
) -> None:
    regimen = recommend_dose(make_patient(**changes), drug, indication, pack).regimen
    while regimen is not None:
        exact = Fraction(regimen.dose_mg) * regimen.doses_per_week / 7
        numerator, denominator = regimen.daily_ratio
        assert Fraction(numerator, denominator) == exact == regimen.daily_mg
        assert numerator / denominator == float(exact)
        regimen = regimen.then
