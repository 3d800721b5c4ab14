"""2×2 statistics against published results, computed by hand and by the letter's numbers.

Shahar-Nissan 2020 (as the seed letter quotes it): transmission at amniocentesis 5/45 with
valacyclovir vs 14/47 with placebo, "OR 0.29, 95% CI 0.09–0.90, p = 0.027".
By hand: OR = (5·33)/(40·14) = 165/560 = 0.29464; SE(ln OR) = √(1/5+1/40+1/14+1/33) = 0.57458;
Woolf CI = exp(ln 0.29464 ± 1.95996·0.57458) = 0.0961 – 0.9033, i.e. 0.10–0.90 to two
decimals (the letter's 0.09 is not the Woolf interval; see the report).
Pearson χ² = 92·(5·33 − 40·14)² / (45·47·19·73) = 4.8932 → p = 0.0270; Fisher exact p = 0.0386.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.errors import InputError
from cmvcds.registry.statistics import two_by_two, wilson_ci


def test_shahar_nissan_trial_golden() -> None:
    r = two_by_two(5, 40, 14, 33)
    assert r.odds_ratio == pytest.approx(165 / 560)
    assert r.ci95 is not None
    assert r.ci95[0] == pytest.approx(0.09610, abs=5e-5)
    assert r.ci95[1] == pytest.approx(0.90333, abs=5e-5)
    assert (round(r.odds_ratio, 2), round(r.ci95[0], 2), round(r.ci95[1], 2)) == (0.29, 0.10, 0.90)
    assert r.chi2 == pytest.approx(92 * (5 * 33 - 40 * 14) ** 2 / (45 * 47 * 19 * 73))
    assert round(r.chi2_p, 3) == 0.027
    assert round(r.fisher_p, 3) == 0.039
    assert r.ci_method == "woolf"
    assert r.chi2_method == "pearson-uncorrected"
    assert r.risk_exposed.proportion == pytest.approx(5 / 45)
    assert r.risk_unexposed.proportion == pytest.approx(14 / 47)


def test_leruez_ville_in_utero_treatment() -> None:
    # asymptomatic at birth 34/41 treated vs 20/47 historical cohort
    r = two_by_two(34, 7, 20, 27)
    assert r.odds_ratio == pytest.approx(34 * 27 / (7 * 20))  # 6.557
    assert r.ci95 is not None
    assert (round(r.ci95[0], 2), round(r.ci95[1], 2)) == (2.42, 17.79)
    assert r.chi2_p == pytest.approx(1.044e-4, rel=1e-3)
    assert r.fisher_p == pytest.approx(1.534e-4, rel=1e-3)


def test_wilson_interval_by_hand() -> None:
    # 5/45, z = 1.95996: centre = (p + z²/2n)/(1 + z²/n), half = z√(p(1-p)/n + z²/4n²)/(1 + z²/n)
    lo, hi = wilson_ci(5, 45)  # type: ignore[misc]
    assert (round(lo, 4), round(hi, 4)) == (0.0484, 0.2350)
    assert wilson_ci(0, 10) == (0.0, pytest.approx(0.27753, abs=1e-5))
    assert wilson_ci(0, 0) is None


def test_zero_cell_uses_haldane_correction() -> None:
    r = two_by_two(0, 10, 5, 5)
    assert r.ci_method == "woolf-haldane"
    assert r.odds_ratio == pytest.approx((0.5 * 5.5) / (10.5 * 5.5))


def test_refuses_non_counts() -> None:
    with pytest.raises(InputError):
        two_by_two(-1, 2, 3, 4)
    with pytest.raises(InputError):
        two_by_two(0, 0, 3, 4)


counts = st.integers(min_value=1, max_value=400)


@settings(deadline=None, max_examples=60)
@given(counts, counts, counts, counts)
def test_swapping_rows_inverts_the_odds_ratio(a: int, b: int, c: int, d: int) -> None:
    r, s = two_by_two(a, b, c, d), two_by_two(c, d, a, b)
    assert r.ci95 and s.ci95 and r.odds_ratio and s.odds_ratio
    assert r.odds_ratio * s.odds_ratio == pytest.approx(1)
    assert r.ci95[0] * s.ci95[1] == pytest.approx(1)
    assert r.ci95[0] < r.odds_ratio < r.ci95[1]
    assert r.chi2_p == pytest.approx(s.chi2_p)
    assert r.fisher_p == pytest.approx(s.fisher_p)


@settings(deadline=None)
@given(st.integers(0, 500), st.integers(0, 500))
def test_wilson_contains_the_proportion(x: int, extra: int) -> None:
    n = x + extra
    ci = wilson_ci(x, n)
    if n == 0:
        assert ci is None
        return
    assert ci is not None
    assert 0 <= ci[0] <= x / n <= ci[1] <= 1
    assert not math.isnan(ci[0])


def test_cli_two_by_two_json_keys() -> None:
    result = CliRunner().invoke(
        app, ["stats", "two-by-two", "5", "40", "14", "33", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    for key in (
        "odds_ratio",
        "ci95",
        "ci_method",
        "chi2_p",
        "fisher_p",
        "risk_exposed",
        "risk_unexposed",
    ):
        assert key in doc
    assert round(doc["odds_ratio"], 2) == 0.29
    assert [round(x, 2) for x in doc["ci95"]] == [0.10, 0.90]
    assert round(doc["chi2_p"], 3) == 0.027
    assert round(doc["fisher_p"], 3) == 0.039


def test_cli_two_by_two_bad_input_exit_2() -> None:
    result = CliRunner().invoke(app, ["stats", "two-by-two", "0", "0", "1", "2"])
    assert result.exit_code == 2
