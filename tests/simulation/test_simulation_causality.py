"""Nothing of an infection is seen before it happens (probe12 #4).

The probe found a woman infected at 27.6 weeks whose fetus showed signs on the 20-week scan and
was diagnosed by an amniocentesis at 21+0 (then a termination): ``course._signs`` ignored the
onset. Now, over many cohorts (the primary incidence raised only so that there are many
infections to look at: the rules do not depend on it), every woman's course, under every
strategy, keeps seed 000's rules against her TRUE onset:

- no ultrasound sign on a scan on or before the onset day;
- no amniocentesis before 20+1 (day 141; seed 000: "from 20+1 weeks") nor, after a primary
  infection, less than 8 weeks after the onset; the one a scan's signs lead to, not before 21+0;
- no positive amniocentesis, no sign, of a fetus whose mother is not infected.

A hand case: onset at 27.6 weeks (day 193), every draw that would show signs: no signs at 20
weeks, no amniocentesis, no termination.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmvcds.knowledge import load_knowledge
from cmvcds.simulation.clinic import Clinic
from cmvcds.simulation.cohort import DRAWS, make_cohort, onset_days
from cmvcds.simulation.course import DIAGNOSTIC_AMNIO_DAY, SCAN_DAY, Woman, follow
from cmvcds.simulation.parameters import base_inputs, override
from cmvcds.simulation.strategies import STRATEGIES

KNOWLEDGE = load_knowledge()
BASE = base_inputs(KNOWLEDGE)
# many infections and many affected fetuses with visible signs (so the rules are exercised)
INPUTS = override(BASE, {"primary_incidence": 0.15, "symptomatic_later": 0.5,
                         "ultrasound_detects_affected": 0.9})  # fmt: skip


class Watched(Clinic):
    """The engine, with every history it is shown kept (the amniocentesis and the scans)."""

    def __init__(self) -> None:
        super().__init__(KNOWLEDGE)
        self.shown: list[tuple[int, tuple, tuple]] = []  # type: ignore[type-arg]

    def see(self, day, observations, scans=(), treated_from=None):  # type: ignore[no-untyped-def]
        self.shown.append((day, observations, scans))
        return super().see(day, observations, scans, treated_from)


CLINIC = Watched()


def _problems(woman: Woman) -> list[str]:
    found: list[str] = []
    for strategy in STRATEGIES.values():
        CLINIC.shown.clear()
        course = follow(woman, strategy, INPUTS, CLINIC)
        amnio = {o for _day, obs, _s in CLINIC.shown for o in obs if o[3] == "amniotic_fluid"}
        scans = {scan for _day, _obs, s in CLINIC.shown for scan in s}
        primary = not math.isnan(woman.onset)
        for day, _code, result, _specimen, _report in amnio:
            if day < 141:
                found.append(f"{strategy.name}: amniocentesis on day {day}, before 20+1")
            if primary and day < woman.onset + 56:
                found.append(f"{strategy.name}: amniocentesis day {day}, onset {woman.onset:.1f}")
            if result == "detected" and not primary and not woman.seropositive:
                found.append(f"{strategy.name}: a positive amniocentesis with no infection")
        for day, signs in scans:
            if signs and primary and day <= woman.onset:
                found.append(f"{strategy.name}: {signs} on day {day}, onset {woman.onset:.1f}")
            if signs and not primary and not woman.seropositive:
                found.append(f"{strategy.name}: {signs} with no infection")
        if any(day == SCAN_DAY for day, signs in scans if signs):
            sign_amnio = [day for day, *_ in amnio]
            if sign_amnio and min(sign_amnio) < DIAGNOSTIC_AMNIO_DAY and not course.detected:
                found.append(f"{strategy.name}: work-up amniocentesis before 21+0")
    return found


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_no_finding_before_the_true_onset(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cohort = make_cohort(1500, INPUTS, rng)
    onsets = onset_days(cohort, INPUTS, counselled=False)
    problems: list[str] = []
    for i in range(len(cohort)):
        if math.isnan(onsets[i]) and not cohort.seropositive[i]:
            continue  # never infected: nothing to find (checked in the hand case below)
        woman = Woman(bool(cohort.seropositive[i]), float(onsets[i]), int(cohort.booking_week[i]),
                      dict(zip(DRAWS, cohort.draws[i].tolist(), strict=True)))  # fmt: skip
        problems += _problems(woman)
    assert problems == []


def _uniforms(**given: float) -> dict[str, float]:
    return {name: given.get(name, 0.5) for name in DRAWS}


def test_a_fetus_infected_after_the_scan_shows_nothing_on_it() -> None:
    """probe12's woman 1377: onset day 193 (27+4), every draw that would show severe signs."""
    woman = Woman(False, 193.0, 10, _uniforms(transmission=0.01, symptomatic=0.001, ultrasound=0.001,
                                                severe=0.001, amnio_uptake=0.001, termination=0.001))  # fmt: skip
    for strategy in ("no-screening", "first-trimester"):
        course = follow(woman, STRATEGIES[strategy], INPUTS, CLINIC)
        assert (course.amniocenteses, course.terminations, course.in_utero) == (0, 0, 0), strategy
        assert (
            course.fetal_infection == 1
        )  # infected all the same: only not seen before it happened


def test_signs_at_20_weeks_lead_to_an_amniocentesis_8_weeks_after_the_onset() -> None:
    """Onset at 17+0 (day 119), signs on the 20-week scan: the amniocentesis waits to 25+0."""
    woman = Woman(False, 119.0, 10, _uniforms(transmission=0.01, symptomatic=0.001, ultrasound=0.001,
                                                severe=0.99, amnio_uptake=0.001))  # fmt: skip
    CLINIC.shown.clear()
    course = follow(woman, STRATEGIES["no-screening"], INPUTS, CLINIC)
    amnio = {o[0] for _d, obs, _s in CLINIC.shown for o in obs if o[3] == "amniotic_fluid"}
    assert course.amniocenteses == 1 and amnio == {119 + 56}
