"""Invariants a clinician states, checked with Hypothesis, and the pure functions underneath.

- The answer does not depend on the order in which a case lists its observations.
- Moving the onset later never makes the amniocentesis earlier (A4).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pregnancy_cases import AMNIO, BASELINE, case, run

from cmvcds.domain.case import Pregnancy
from cmvcds.domain.results import PathwayResult
from cmvcds.engine.pregnancy.amniocentesis import earliest_amniocentesis
from cmvcds.engine.pregnancy.dating import PregnancyDating, date_pregnancy
from cmvcds.engine.pregnancy.infection import OnsetWindow, PeriodBounds, timing_label
from cmvcds.engine.pregnancy.prevention import where_onset
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.pregnancy import DatingRules, PregnancyProtocol, TimingTable

LMP = date(2025, 12, 20)
FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _rich_case() -> dict[str, Any]:
    observations = [
        *BASELINE["observations"],
        {"date": "2026-03-01", "code": "cmv_igg_avidity", "result": "intermediate"},
        {"date": "2026-05-01", "code": "creatinine", "value": 0.7, "unit": "mg/dL"},
        AMNIO,
        {
            "date": "2026-05-19",
            "code": "platelets",
            "specimen": "fetal_blood",
            "value": 90000,
            "unit": "/mm3",
        },
    ]
    ultrasound = [
        {"date": "2026-02-27", "findings": []},
        {"date": "2026-05-19", "findings": ["ascites"]},
    ]
    return case(assessed_on="2026-05-20", observations=observations, ultrasound=ultrasound)


@FAST
@given(seed=st.integers(min_value=0, max_value=10**6))
def test_answer_does_not_depend_on_observation_order(knowledge: Knowledge, seed: int) -> None:
    raw = _rich_case()
    reference = run(knowledge, raw)
    shuffled = dict(raw)
    shuffled["observations"] = random.Random(seed).sample(
        raw["observations"], len(raw["observations"])
    )
    shuffled["ultrasound"] = random.Random(seed + 1).sample(
        raw["ultrasound"], len(raw["ultrasound"])
    )
    assert run(knowledge, shuffled) == reference


@FAST
@given(first=st.integers(min_value=30, max_value=160), later=st.integers(min_value=0, max_value=60))
def test_later_onset_never_earlier_amniocentesis(
    knowledge: Knowledge, first: int, later: int
) -> None:
    def earliest(day: int) -> str:
        positive = (LMP + timedelta(days=day)).isoformat()
        observations = [
            {"date": "2025-12-01", "code": "cmv_igg", "result": "negative"},
            {"date": positive, "code": "cmv_igg", "result": "positive"},
            {"date": positive, "code": "cmv_igm", "result": "positive"},
            *BASELINE["observations"][-2:],
        ]
        raw = case(observations=observations, assessed_on=max(positive, "2026-03-02"))
        items = [
            s["earliest"] for s in run(knowledge, raw)["schedule"] if s["event"] == "amniocentesis"
        ]
        assert len(items) == 1
        return str(items[0])

    assert earliest(first) <= earliest(first + later)


@given(
    onset=st.dates(min_value=date(2025, 10, 1), max_value=date(2026, 9, 1)),
    shift=st.integers(0, 200),
)
def test_earliest_amniocentesis_is_monotone_and_never_before_20_1(
    knowledge: Knowledge, onset: date, shift: int
) -> None:
    protocol = knowledge.table("pregnancy_protocol", PregnancyProtocol)
    dating = PregnancyDating(LMP, "LMP")
    a = earliest_amniocentesis(onset, dating, protocol)
    b = earliest_amniocentesis(onset + timedelta(days=shift), dating, protocol)
    assert a <= b
    assert a >= date(2026, 5, 10)
    assert a >= onset + timedelta(days=56)


def test_timing_labels(knowledge: Knowledge) -> None:
    timing = knowledge.table("pregnancy_timing", TimingTable)
    peri = PeriodBounds(-7, 35)
    labels = {day: timing_label(day, peri, timing) for day in (-8, -7, 35, 36, 97, 98, 195, 196)}
    assert labels == {
        -8: "preconceptional", -7: "periconceptional", 35: "periconceptional", 36: "first trimester",
        97: "first trimester", 98: "second trimester", 195: "second trimester", 196: "third trimester",
    }  # fmt: skip


def test_where_onset() -> None:
    start, limit = date(2025, 12, 13), date(2026, 6, 6)
    cases = {
        OnsetWindow(date(2026, 6, 5), date(2026, 6, 5), "s"): "in",
        OnsetWindow(date(2026, 6, 6), date(2026, 6, 6), "s"): "after",
        OnsetWindow(date(2026, 5, 1), date(2026, 6, 6), "s"): "straddles",
        OnsetWindow(None, date(2026, 6, 5), "s"): "may-precede",
        OnsetWindow(None, date(2026, 6, 6), "s"): "straddles",
        OnsetWindow(None, date(2025, 12, 12), "s"): "before",
        OnsetWindow(date(2025, 12, 13), date(2026, 1, 1), "s"): "in",
        OnsetWindow(date(2025, 12, 12), date(2026, 1, 1), "s"): "may-precede",
        OnsetWindow(date(2025, 12, 12), date(2025, 12, 12), "s"): "before",
        OnsetWindow(date(2025, 12, 1), date(2026, 6, 6), "s"): "straddles",
    }
    assert {w: where_onset(w, start, limit) for w in cases} == cases


def test_dating_rules(knowledge: Knowledge) -> None:
    rules = knowledge.table("pregnancy_dating", DatingRules)

    def dated(**fields: Any) -> tuple[date, str, list[str]] | None:
        result = PathwayResult()
        found = date_pregnancy(Pregnancy(**fields), rules, result)
        return (found.lmp, found.basis, [a.code.value for a in result.alerts]) if found else None

    scan = {"date": date(2026, 2, 27), "gestational_age": "9+6"}  # LMP 2025-12-20 exactly
    assert dated() is None
    assert dated(lmp=LMP) == (LMP, "LMP", [])
    assert dated(lmp=LMP, dating=scan) == (
        LMP,
        "LMP, confirmed by the dating scan",
        ["unverified-fact"],
    )
    # Scan at 8+6 or earlier: > 5 days redates, 5 days does not.
    five = {
        "date": date(2026, 2, 15),
        "gestational_age": "8+6",
    }  # implies LMP 2025-12-15: 5 days off
    assert dated(lmp=LMP, dating=five) == (
        LMP,
        "LMP (scan within 5 days)",
        ["unverified-fact", "boundary-case"],
    )
    six = {
        "date": date(2026, 2, 10),
        "gestational_age": "8+2",
    }  # implies LMP 2025-12-14: 6 days off
    assert dated(lmp=LMP, dating=six) == (
        date(2025, 12, 14),
        "dating scan (redated: LMP off by 6 days)",
        ["unverified-fact", "boundary-case"],
    )
    assert dated(lmp=date(2025, 12, 1), edd=date(2026, 9, 26))[:2] == (LMP, "EDD")  # type: ignore[index]


def test_unverified_facts_are_flagged(knowledge: Knowledge) -> None:
    messages = [
        a["message"] for a in run(knowledge, BASELINE)["alerts"] if a["code"] == "unverified-fact"
    ]
    assert any("26+0" in m for m in messages)
    assert any("creatinine exclusion" in m for m in messages)
    assert any("monitoring during valacyclovir" in m for m in messages)
    assert any("periconceptional window" in m for m in messages)
