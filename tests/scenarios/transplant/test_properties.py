"""Invariants clinicians state, checked with Hypothesis on the SOT and HSCT baselines."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmvcds.knowledge import Knowledge
from transplant.helpers import regimens, run, with_
from transplant.test_sot import KIDNEY, transplant
from transplant.test_treatment import BASE

FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST
@given(
    value=st.integers(min_value=1, max_value=10_000_000),
    threshold=st.integers(min_value=1, max_value=100_000),
)
def test_preemptive_therapy_starts_exactly_at_the_site_threshold(
    knowledge: Knowledge, value: int, threshold: int
) -> None:
    raw = with_(
        KIDNEY, assessed_on="2026-04-01", transplant=transplant(recipient_cmv_igg="positive")
    )
    raw["observations"] = [
        *KIDNEY["observations"],
        {
            "date": "2026-04-01",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": value,
            "unit": "IU/mL",
        },
    ]
    doc = run(
        knowledge, raw, sot_rplus_strategy__kidney="preemptive", pet_threshold_iu_ml__sot=threshold
    )
    assert bool(regimens(doc)) == (value >= threshold)


@FAST
@given(day=st.integers(min_value=4, max_value=200))  # labs are dated day 4
def test_kidney_prophylaxis_always_ends_on_day_200(knowledge: Knowledge, day: int) -> None:
    from datetime import date, timedelta

    on = date(2026, 3, 1) + timedelta(days=day)
    doc = run(knowledge, with_(KIDNEY, assessed_on=on.isoformat()))
    [vgc] = regimens(doc)
    assert vgc["stop"] == "2026-09-17"


@FAST
@given(seed=st.integers(min_value=0, max_value=10_000))
def test_order_of_observations_changes_nothing(knowledge: Knowledge, seed: int) -> None:
    raw = with_(
        BASE,
        assessed_on="2026-06-09",
        therapy=[
            {
                "drug": "ganciclovir",
                "dose_mg": 350,
                "every_h": 12,
                "route": "iv",
                "start": "2026-06-01",
                "indication": "induction",
            }
        ],
        presentation={
            "disease": "tissue_invasive",
            "organs": ["gastrointestinal"],
            "severity": "severe",
            "course": "improving",
        },
    )
    raw["observations"] = [
        *BASE["observations"],
        {
            "date": "2026-06-08",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 3000,
            "unit": "IU/mL",
        },
        {"date": "2026-06-08", "code": "creatinine", "value": 1.1, "unit": "mg/dL"},
    ]
    shuffled = with_(raw)
    random.Random(seed).shuffle(shuffled["observations"])
    assert run(knowledge, shuffled) == run(knowledge, raw)
