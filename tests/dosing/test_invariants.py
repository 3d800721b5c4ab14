"""Invariants clinicians state, checked with Hypothesis.

- A lower creatinine clearance never yields a higher daily dose (nor turns a refusal into a dose).
- A dose never exceeds the label maximum (literal maxima below, read from the labels).
- Creatinine in mg/dL and in µmol/L gives the same answer.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmvcds.domain.case import parse_case
from cmvcds.domain.vocabulary import Outcome
from cmvcds.engine.dosing import DoseResult, dose_patient_from_case, recommend_dose
from cmvcds.knowledge import Knowledge
from tests.dosing.conftest import make_patient

#: (drug, indication, options) of every renally adjusted regimen.
RENAL_REGIMENS: list[tuple[str, str, dict[str, Any]]] = [
    ("valganciclovir", "induction", {}),
    ("valganciclovir", "maintenance", {}),
    ("valganciclovir", "preemptive", {}),
    ("valganciclovir", "induction", {"region": "eu", "regimen": "oral-solution"}),
    ("valganciclovir", "maintenance", {"region": "eu", "regimen": "oral-solution"}),
    ("ganciclovir", "induction", {}),
    ("ganciclovir", "maintenance", {}),
    ("ganciclovir", "prophylaxis", {}),
    ("ganciclovir", "refractory", {"regimen": "high-dose"}),
    ("foscarnet", "induction", {}),
    ("foscarnet", "induction", {"regimen": "90-q12h"}),
    ("foscarnet", "maintenance", {}),
    ("foscarnet", "maintenance", {"regimen": "120"}),
    ("valacyclovir", "prophylaxis", {"region": "eu"}),
    ("cidofovir", "induction", {}),
]

#: The label maxima per day: mg (fixed doses) or mg/kg (weight-based), from the label texts.
MAX_MG_PER_DAY = {
    "valganciclovir": 1800,
    "valacyclovir": 8000,
    "letermovir": 480,
    "maribavir": 2400,
}
MAX_MG_PER_KG_PER_DAY = {"ganciclovir": 20, "foscarnet": 180, "cidofovir": Fraction(5, 7)}

ages = st.integers(min_value=18, max_value=95)
weights = st.decimals(min_value=35, max_value=180, places=1)
creatinines = st.decimals(min_value=Decimal("0.3"), max_value=15, places=2)
sexes = st.sampled_from(["male", "female"])
common = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _implausible(result: DoseResult) -> bool:
    """No dose because the computed clearance is above the pack's plausible limit."""
    return result.outcome is Outcome.INSUFFICIENT_DATA and any(
        a.code == "implausible-input" for a in result.alerts
    )


def _daily(result: DoseResult) -> Fraction:
    assert result.regimen is not None
    return result.regimen.daily_mg


@common
@given(
    choice=st.sampled_from(RENAL_REGIMENS),
    age=ages,
    weight=weights,
    sex=sexes,
    low=creatinines,
    high=creatinines,
    protein=st.integers(0, 99),
)
def test_lower_clearance_never_raises_the_daily_dose(
    pack: Knowledge,
    choice: tuple[str, str, dict[str, Any]],
    age: int,
    weight: Decimal,
    sex: str,
    low: Decimal,
    high: Decimal,
    protein: int,
) -> None:
    drug, indication, options = choice
    better, worse = sorted((low, high))
    common_inputs = {
        "age_years": age,
        "weight_kg": weight,
        "sex": sex,
        "urine_protein_mg_dl": protein,
    }
    good = recommend_dose(
        make_patient(creatinine_mg_dl=better, **common_inputs), drug, indication, pack, **options
    )
    bad = recommend_dose(
        make_patient(creatinine_mg_dl=worse, **common_inputs), drug, indication, pack, **options
    )
    if bad.outcome is Outcome.RECOMMENDED and _implausible(good):
        return  # a clearance above the plausible limit gives no dose (probe8 W4)
    if bad.outcome is Outcome.RECOMMENDED:
        assert good.outcome is Outcome.RECOMMENDED, (good.reasons, bad.reasons)
        assert _daily(bad) <= _daily(good)
        phase_good, phase_bad = good.regimen, bad.regimen
        while phase_good is not None and phase_bad is not None:
            assert phase_bad.daily_mg <= phase_good.daily_mg
            phase_good, phase_bad = phase_good.then, phase_bad.then


@common
@given(
    choice=st.sampled_from(RENAL_REGIMENS),
    age=ages,
    weight=weights,
    sex=sexes,
    creatinine=creatinines,
    dialysis=st.sampled_from(["none", "none", "hemodialysis"]),
)
def test_a_dose_never_exceeds_the_label_maximum(
    pack: Knowledge,
    choice: tuple[str, str, dict[str, Any]],
    age: int,
    weight: Decimal,
    sex: str,
    creatinine: Decimal,
    dialysis: str,
) -> None:
    drug, indication, options = choice
    patient = make_patient(
        age_years=age,
        weight_kg=weight,
        sex=sex,
        creatinine_mg_dl=creatinine,
        dialysis=dialysis,
        urine_protein_mg_dl=0,
    )
    result = recommend_dose(patient, drug, indication, pack, **options)
    if result.outcome is not Outcome.RECOMMENDED:
        assert result.regimen is None
        return
    phase = result.regimen
    while phase is not None:
        if drug in MAX_MG_PER_DAY:
            assert phase.daily_mg <= MAX_MG_PER_DAY[drug]
        else:
            assert phase.daily_mg <= MAX_MG_PER_KG_PER_DAY[drug] * Fraction(weight)
        phase = phase.then


@common
@given(
    age=st.integers(0, 16),
    height=st.integers(45, 190),
    weight=st.decimals(2, 90, places=1),
    creatinine=st.decimals(Decimal("0.1"), 4, places=2),
    sex=sexes,
    organ=st.sampled_from(["kidney", "heart"]),
)
def test_pediatric_dose_never_exceeds_900_mg(
    pack: Knowledge,
    age: int,
    height: int,
    weight: Decimal,
    creatinine: Decimal,
    sex: str,
    organ: str,
) -> None:
    patient = make_patient(
        age_years=age,
        age_months=age * 12 + 6,
        height_cm=height,
        weight_kg=weight,
        creatinine_mg_dl=creatinine,
        sex=sex,
        transplant_organ=organ,
        birth_weight_for_gestational_age="appropriate",
    )
    result = recommend_dose(patient, "valganciclovir", "prophylaxis", pack)
    if result.regimen is not None:
        assert result.regimen.dose_mg <= 900
        assert result.regimen.dose_mg % 25 == 0
        assert result.renal is not None and result.renal.value <= 150


@common
@given(
    creatinine=st.decimals(min_value=Decimal("0.2"), max_value=15, places=2),
    drug_indication=st.sampled_from(
        [
            ("valganciclovir", "induction"),
            ("ganciclovir", "maintenance"),
            ("foscarnet", "induction"),
            ("cidofovir", "induction"),
        ]
    ),
    age=ages,
    weight=weights,
    sex=sexes,
)
def test_mg_dl_and_umol_l_give_the_same_answer(
    pack: Knowledge,
    creatinine: Decimal,
    drug_indication: tuple[str, str],
    age: int,
    weight: Decimal,
    sex: str,
) -> None:
    drug, indication = drug_indication

    def dose(value: Decimal, unit: str) -> dict[str, Any]:
        raw = {
            "id": "units",
            "assessed_on": "2026-11-20",
            "context": "hiv",
            "patient": {"sex": sex, "age_years": age, "weight_kg": weight},
            "observations": [
                {"date": "2026-11-20", "code": "creatinine", "value": value, "unit": unit},
                {"date": "2026-11-20", "code": "urine_protein", "value": 0, "unit": "mg/dL"},
            ],
        }
        case = parse_case(raw, pack, today=date(2026, 11, 21))
        return recommend_dose(
            dose_patient_from_case(case, case.assessed_on), drug, indication, pack
        ).to_dict()

    assert dose(creatinine, "mg/dL") == dose(creatinine * Decimal("88.4"), "umol/L")
