"""Viral-load kinetics: series kept apart by specimen and unit, exact log10, nadir, confirmed rise,
slope and doubling time, the AUC trapezoid rule, and the invariants clinicians state."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmvcds.domain.case import Observation
from cmvcds.engine.kinetics import (
    Point,
    auc_trapezoid,
    chart_data,
    confirmed_rise,
    nadir,
    trend,
    viral_load_series,
)

D0 = date(2026, 1, 5)
ONE = Decimal("1.0")


def dna(
    day: int,
    value: str | None,
    unit: str = "IU/mL",
    specimen: str = "plasma",
    result: str | None = None,
) -> Observation:
    return Observation(
        date=D0 + timedelta(days=day),
        code="cmv_dna",
        specimen=specimen,
        value=Decimal(value) if value is not None else None,
        unit=unit if value is not None else None,
        result=result,
    )


def points(*values: str) -> tuple[Point, ...]:
    return tuple(Point.of(D0 + timedelta(days=7 * i), Decimal(v)) for i, v in enumerate(values))


def test_iu_and_copies_plasma_and_whole_blood_are_four_series() -> None:
    series = viral_load_series(
        [
            dna(0, "1000"),
            dna(7, "100"),
            dna(0, "5000", unit="copies/mL"),
            dna(0, "2000", specimen="whole_blood"),
            dna(7, "800", specimen="whole_blood", unit="copies/mL"),
            dna(3, None, specimen="urine", result="detected"),
        ]
    )
    assert [s.key for s in series] == [
        "plasma IU/mL",
        "plasma copies/mL",
        "whole_blood IU/mL",
        "whole_blood copies/mL",
    ]
    assert [p.value for p in series[0].points] == [Decimal(1000), Decimal(100)]
    assert [p.value for p in series[1].points] == [Decimal(5000)]


def test_not_detected_results_are_markers_not_numbers() -> None:
    (s,) = viral_load_series([dna(0, "1000"), dna(14, None, result="not_detected")])
    assert len(s.points) == 1
    assert s.not_quantified == ((D0 + timedelta(days=14), "not_detected"),)


def test_observations_after_the_assessment_date_are_ignored() -> None:
    (s,) = viral_load_series([dna(0, "1000"), dna(30, "99999")], until=D0 + timedelta(days=29))
    assert [p.value for p in s.points] == [Decimal(1000)]


def test_log10_is_exact_for_tenfold() -> None:
    low, high = Point.of(D0, Decimal(500)), Point.of(D0, Decimal(5000))
    assert high.log10 - low.log10 == ONE


def test_nadir_is_lowest_and_earliest_of_ties() -> None:
    ps = points("5000", "200", "200", "900")
    low = nadir(ps)
    assert low is not None and low.value == Decimal(200) and low.day == D0 + timedelta(days=7)


def test_confirmed_rise_exactly_one_log_above_nadir() -> None:
    # 20,000 → 300 (nadir) → 3,000 → 3,000: both ≥ 1.0 log above the nadir.
    rise = confirmed_rise(points("20000", "300", "3000", "3000"), ONE)
    assert rise is not None and rise.confirmed
    assert rise.nadir.value == Decimal(300)
    assert rise.rise_log10 == ONE


def test_just_under_one_log_is_no_rise() -> None:
    assert confirmed_rise(points("20000", "300", "2999", "2999"), ONE) is None


def test_single_rise_is_unconfirmed() -> None:
    rise = confirmed_rise(points("20000", "300", "250", "4000"), ONE)
    assert rise is not None and not rise.confirmed
    assert rise.nadir.value == Decimal(250) and rise.first.value == Decimal(4000)


def test_rise_then_fall_is_not_current() -> None:
    assert confirmed_rise(points("300", "5000", "6000", "200"), ONE) is None


def test_trend_slope_and_doubling_time() -> None:
    # 100 on day 0 (nadir), 1,000 on day 7, 10,000 on day 14: 1 log per week.
    t = trend(points("100", "1000", "10000"))
    assert t is not None
    assert t.change_from_nadir_log10 == Decimal("2.000")
    assert t.slope_log10_per_day == Decimal("0.1429")
    # log10(2) / (1/7) = 2.107 days
    assert t.doubling_time_days == Decimal("2.1")
    assert t.halving_time_days is None


def test_trend_of_falling_load_gives_halving_time() -> None:
    t = trend(points("10000", "1000"))
    assert t is not None
    # The nadir is the last point: no slope from a single point.
    assert t.slope_log10_per_day is None and t.change_from_nadir_log10 == Decimal("0.000")


def test_auc_trapezoid_by_hand() -> None:
    # (0,2) (1,8) (3,6) (12,1): 1*(2+8)/2 + 2*(8+6)/2 + 9*(6+1)/2 = 5 + 14 + 31.5 = 50.5
    samples = [(Decimal(t), Decimal(c)) for t, c in ((3, 6), (0, 2), (12, 1), (1, 8))]
    assert auc_trapezoid(samples) == Decimal("50.5")


@pytest.mark.parametrize(
    "samples",
    [
        [(Decimal(0), Decimal(1))],
        [(Decimal(0), Decimal(1)), (Decimal(0), Decimal(2))],
        [(Decimal(0), Decimal(-1)), (Decimal(1), Decimal(1))],
    ],
)
def test_auc_refuses_bad_samples(samples: list[tuple[Decimal, Decimal]]) -> None:
    with pytest.raises(ValueError):
        auc_trapezoid(samples)


def test_chart_data_carries_nadir_and_kinetics() -> None:
    chart = chart_data(viral_load_series([dna(0, "8000"), dna(7, "400"), dna(14, "800")]))
    (line,) = chart.series
    assert line.key == "plasma IU/mL"
    assert line.nadir is not None and line.nadir.value == Decimal(400)
    assert line.change_from_nadir_log10 == Decimal("0.301")


# --- invariants ---------------------------------------------------------------------------------

loads = st.integers(min_value=1, max_value=10_000_000)
samples = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=200),
        loads,
        st.sampled_from(["plasma", "whole_blood"]),
        st.sampled_from(["IU/mL", "copies/mL"]),
    ),
    min_size=1,
    max_size=12,
)


@given(samples, st.randoms())
@settings(max_examples=150, deadline=None)
def test_permuting_observations_changes_nothing(
    raw: list[tuple[int, int, str, str]], rnd: object
) -> None:
    obs = [dna(d, str(v), unit=u, specimen=s) for d, v, s, u in raw]
    shuffled = list(obs)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert viral_load_series(obs) == viral_load_series(shuffled)
    assert chart_data(viral_load_series(obs)) == chart_data(viral_load_series(shuffled))


@given(st.lists(loads, min_size=1, max_size=10), loads)
@settings(max_examples=300, deadline=None)
def test_a_new_lowest_load_never_creates_a_rise(values: list[int], new: int) -> None:
    before = points(*map(str, values))
    lowest = min(new, *values)
    after = (*before, Point.of(before[-1].day + timedelta(days=7), Decimal(lowest)))
    assert confirmed_rise(after, ONE) is None
