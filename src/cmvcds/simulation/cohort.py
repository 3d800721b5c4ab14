"""A cohort of simulated pregnancies: who is seropositive, when a primary infection would start,
and the uniform draws that decide every later chance event.

The draws are common random numbers: every strategy sees the same woman with the same draws, so
differences between strategies are the policies', not noise, and a change of one input moves
outcomes monotonically (the Hypothesis invariants rely on it). Days count from the LMP (day 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["DRAWS", "Cohort", "make_cohort", "onset_days"]

#: Named columns of the uniform draws, one per chance event of a woman's course.
DRAWS = (
    "testing", "igm", "avidity", "dna", "accept", "amnio_uptake", "amnio_sensitivity",
    "transmission", "nonprimary", "symptomatic", "sequelae", "ultrasound", "severe",
    "termination", "loss", "late", "lag",
)  # fmt: skip

PRECONCEPTION_FROM_WEEK = -8
PRECONCEPTION_TO_WEEK = -2
PREGNANCY_FROM_WEEK = -1
PREGNANCY_TO_WEEK = 40


@dataclass(frozen=True)
class Cohort:
    """``n`` women: serostatus, booking week, exposure (an Exp(1) draw) and uniform draws."""

    seropositive: np.ndarray
    booking_week: np.ndarray
    exposure: np.ndarray
    draws: np.ndarray

    def __len__(self) -> int:
        return int(self.seropositive.shape[0])

    def draw(self, name: str) -> np.ndarray:
        """The column of uniform draws named ``name``."""
        return self.draws[:, DRAWS.index(name)]


def make_cohort(n: int, inputs: Mapping[str, float], rng: np.random.Generator) -> Cohort:
    """``n`` women drawn with ``rng`` under ``inputs``."""
    seropositive = rng.random(n) < inputs["seroprevalence"]
    low, mode, high = 6, inputs["booking_week"], 13
    booking = np.rint(rng.triangular(low, min(max(mode, low), high), high, n)).astype(np.int64)
    exposure = rng.exponential(1.0, n)
    draws = rng.random((n, len(DRAWS)))
    return Cohort(seropositive, booking, exposure, draws)


def onset_days(
    cohort: Cohort, inputs: Mapping[str, float], counselled: bool
) -> np.ndarray:
    """Day of primary-infection onset of each seronegative woman (NaN: none, or seropositive).

    Piecewise-constant weekly hazard: the preconceptional rate from week -8 to -2, then the
    pregnancy rate (``primary_incidence`` spread over weeks -1 to 40); hygiene counselling from
    the booking visit multiplies the pregnancy rate by ``hygiene_relative_risk``. A woman is
    infected where her Exp(1) exposure falls under the cumulative hazard.
    """
    pre_weeks = PRECONCEPTION_TO_WEEK - PRECONCEPTION_FROM_WEEK
    pre_rate = -math.log(1 - inputs["preconception_incidence"]) / pre_weeks
    rate = -math.log(1 - inputs["primary_incidence"]) / (PREGNANCY_TO_WEEK - PREGNANCY_FROM_WEEK)
    e = cohort.exposure
    weeks = np.full(len(cohort), np.nan, dtype=np.float64)
    pre_total = pre_rate * pre_weeks
    in_pre = e < pre_total
    weeks[in_pre] = PRECONCEPTION_FROM_WEEK + e[in_pre] / pre_rate
    rest = e - pre_total
    booking = cohort.booking_week.astype(float)
    until_booking = rate * (booking - PREGNANCY_FROM_WEEK)
    later_rate = rate * (inputs["hygiene_relative_risk"] if counselled else 1.0)
    before = (~in_pre) & (rest < until_booking)
    weeks[before] = PREGNANCY_FROM_WEEK + rest[before] / rate
    after = (~in_pre) & (~before)
    candidate = booking + (rest - until_booking) / later_rate if later_rate > 0 else np.inf
    candidate = np.broadcast_to(candidate, weeks.shape)
    after_hit = after & (candidate < PREGNANCY_TO_WEEK)
    weeks[after_hit] = candidate[after_hit]
    weeks[cohort.seropositive] = np.nan
    return np.floor(weeks * 7)
