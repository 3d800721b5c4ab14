"""One woman's course under one strategy: visits, what ``assess()`` decides, and what follows.

Serology results come from her true state (onset day, serostatus) and the test performance
inputs; at each visit the dated results so far go to the engine (``Clinic``), and the simulation
does what it recommends: valacyclovir from that day if she consents, the amniocentesis on the
day the schedule gives, in-utero treatment when the engine recommends it after a positive
amniocentesis. Transmission, symptoms and sequelae then follow the cited rates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from cmvcds.simulation.clinic import Clinic, Obs, Scan
from cmvcds.simulation.strategies import Strategy

__all__ = ["Course", "Woman", "follow"]

SCAN_DAY = 140  # the 20+0 anomaly scan
WORKUP_DAY = 141  # serology after an abnormal scan
DIAGNOSTIC_AMNIO_DAY = 147  # 21+0
AMNIO_AFTER_ONSET = 56  # seed 000: amniocentesis at least 8 weeks after the maternal infection
TERM_DAY = 280
PERICONCEPTION_TO = 35  # Daiminger 2005: up to 5 weeks after the LMP (pregnancy_timing)
FIRST_TRIMESTER_TO = 97
SECOND_TRIMESTER_TO = 195


@dataclass(frozen=True)
class Woman:
    """Her true state and her uniform draws (``cohort.DRAWS``)."""

    seropositive: bool
    onset: float  # day of primary-infection onset from the LMP; NaN when none
    booking_week: int
    u: Mapping[str, float]


@dataclass
class Course:
    """What happened: counts for the tallies (each 0/1, or days)."""

    primary: int = 0
    detected: int = 0
    treated: int = 0
    treatment_days: int = 0
    in_utero: int = 0
    amniocenteses: int = 0
    igg_igm: int = 0
    avidity: int = 0
    dna: int = 0
    counselled: int = 0
    specialist: int = 0
    fetal_infection: int = 0
    late_infection: int = 0
    symptomatic: int = 0
    symptomatic_only: int = 0
    sequelae: int = 0
    terminations: int = 0
    losses: int = 0


def follow(woman: Woman, strategy: Strategy, inputs: Mapping[str, float], clinic: Clinic) -> Course:
    """Her course under ``strategy``."""
    c = Course(primary=int(not math.isnan(woman.onset)), counselled=int(strategy.counselling))
    observations: list[Obs] = []
    weeks: tuple[int, ...] = ()
    if strategy.screening and woman.u["testing"] < inputs["testing_uptake"]:
        weeks = (woman.booking_week, *[w for w in strategy.repeat_weeks if w > woman.booking_week])
    # visits up to the 20-week scan, then the scan; later visits only for a woman it did not send
    # to the work-up (events in date order: a later visit cannot precede the scan's work-up)
    seen = _visits(woman, [w for w in weeks if w * 7 <= SCAN_DAY], inputs, clinic, observations, c)
    finished, start, stop_day, amnio_day = seen
    p_symptomatic, p_sequelae = _outcome_risks(woman, inputs)
    infected, c.late_infection = _transmitted(woman, inputs, start)
    signs = _signs(woman, inputs, infected and woman.u["symptomatic"] < p_symptomatic, SCAN_DAY)
    later = [w for w in weeks if w * 7 > SCAN_DAY]
    if later and not finished and not (amnio_day is None and signs):
        _, start, stop_day, amnio_day = _visits(woman, later, inputs, clinic, observations, c)
        infected, c.late_infection = _transmitted(woman, inputs, start)
        signs = _signs(woman, inputs, infected and woman.u["symptomatic"] < p_symptomatic, SCAN_DAY)
    if amnio_day is not None and amnio_day >= TERM_DAY:
        amnio_day = None  # scheduled after the birth (a late visit): not done
    scans: tuple[Scan, ...] = ()
    if amnio_day is None and signs:
        # the 20-week scan shows Table 1 signs: serology, then a diagnostic amniocentesis
        c.specialist = 1
        _serology(woman, WORKUP_DAY, inputs, observations, c)
        amnio_day = _diagnostic_amnio_day(woman)
        scans = ((SCAN_DAY, signs),)
    in_utero_from: int | None = None
    end = stop_day if start is not None and stop_day is not None else None
    if amnio_day is not None and woman.u["amnio_uptake"] < inputs["amniocentesis_uptake"]:
        c.amniocenteses, c.dna = 1, c.dna + 1
        report = amnio_day + int(inputs["amniocentesis_report_days"])
        positive = infected and woman.u["amnio_sensitivity"] < inputs["amniocentesis_sensitivity"]
        observations.append((amnio_day, "cmv_dna", "detected" if positive else "not_detected", "amniotic_fluid", report))
        if not scans:  # the scan at the report: signs only of an infection already there
            signs = _signs(woman, inputs, infected and woman.u["symptomatic"] < p_symptomatic, report)
            scans = ((report, signs),) if signs else ()
        verdict = clinic.see(report, tuple(observations), scans, start)
        end = report if start is not None else None
        if positive and verdict.fetal_treatment == "recommended" and woman.u["accept"] < inputs["valacyclovir_acceptance"]:
            in_utero_from = report
        if woman.u["loss"] < inputs["amniocentesis_loss"]:
            c.losses = 1
        elif positive and "periventricular_hyperechogenicity" in signs and woman.u["termination"] < inputs["termination_severe"]:
            c.terminations = 1
    if start is not None:
        c.treated = 1
        c.treatment_days += max((end if end is not None else TERM_DAY) - start, 0)
    if in_utero_from is not None:
        c.in_utero = 1
        c.treatment_days += TERM_DAY - in_utero_from
        p_symptomatic *= inputs["in_utero_treatment_relative_risk"]
        p_sequelae *= inputs["in_utero_treatment_relative_risk"]
    c.fetal_infection = int(infected) or c.late_infection
    if c.terminations or c.losses:
        c.late_infection, c.fetal_infection = 0, int(infected)
    if infected and not (c.terminations or c.losses):
        c.symptomatic = int(woman.u["symptomatic"] < p_symptomatic)
        c.sequelae = int(woman.u["sequelae"] < p_sequelae)
        c.symptomatic_only = int(c.symptomatic and not c.sequelae)
    return c


def _diagnostic_amnio_day(woman: Woman) -> int:
    """The amniocentesis after a scan's signs: from 21+0, and at least 8 weeks after the true
    onset (seed 000); signs are seen only after the onset, so this is never before it."""
    if math.isnan(woman.onset):
        return DIAGNOSTIC_AMNIO_DAY
    return max(DIAGNOSTIC_AMNIO_DAY, math.ceil(woman.onset) + AMNIO_AFTER_ONSET)


def _visits(
    woman: Woman, weeks: list[int], inputs: Mapping[str, float], clinic: Clinic, observations: list[Obs], c: Course
) -> tuple[bool, int | None, int | None, int | None]:
    """Serology visits at ``weeks`` until IgG is positive or prevention is recommended: whether
    they ended so, and valacyclovir's start and stop days and the amniocentesis day (or None)."""
    start: int | None = None
    stop_day: int | None = None
    amnio_day: int | None = None
    for week in weeks:
        day = week * 7
        igg_positive = _serology(woman, day, inputs, observations, c)
        verdict = clinic.see(day, tuple(observations))
        if verdict.status == "primary":
            c.detected = 1
            c.specialist = 1
            amnio_day = verdict.amniocentesis_day
            if amnio_day is not None and amnio_day < day:
                # "from" a date already past (an onset dated well before the visit, e.g. a high
                # avidity at a late repeat visit, rule I-14): done at the earliest from this visit
                amnio_day = day
        if verdict.prevention == "recommended":
            if woman.u["accept"] < inputs["valacyclovir_acceptance"]:
                start, stop_day = day, verdict.stop_day
            return True, start, stop_day, amnio_day
        if igg_positive:
            return True, start, stop_day, amnio_day
    return False, start, stop_day, amnio_day


def _serology(woman: Woman, day: int, inputs: Mapping[str, float], observations: list[Obs], c: Course) -> bool:
    """IgG and IgM on ``day``; avidity and creatinine when both are positive; blood DNA when the
    avidity is intermediate. Returns whether IgG is positive."""
    since = day - woman.onset if not math.isnan(woman.onset) else math.nan
    recent = not math.isnan(since) and since >= inputs["seroconversion_lag_weeks"] * 7
    igg = woman.seropositive or recent
    if woman.seropositive:
        igm = woman.u["igm"] < inputs["igm_positive_seropositive"]
    else:
        igm = recent and since < inputs["igm_persistence_weeks"] * 7 and woman.u["igm"] < inputs["igm_sensitivity"]
    c.igg_igm += 1
    observations += [(day, "cmv_igg", _sign(igg), None, None), (day, "cmv_igm", _sign(igm), None, None)]
    if igg and igm:
        c.avidity += 1
        if recent and since < inputs["avidity_maturation_weeks"] * 7:
            avidity = "low" if woman.u["avidity"] < inputs["avidity_low_recent"] else "intermediate"
        else:
            avidity = "high" if woman.u["avidity"] < inputs["avidity_high_past"] else "intermediate"
        observations += [(day, "cmv_igg_avidity", avidity, None, None), (day, "creatinine", "", None, None)]
        if avidity == "intermediate":
            c.dna += 1
            if woman.seropositive or not recent:
                dna = woman.u["dna"] < inputs["dnaemia_false_positive"]
            else:
                dna = since < 42 and woman.u["dna"] < inputs["dnaemia_sensitivity"]
            observations.append((day, "cmv_dna", "detected" if dna else "not_detected", "whole_blood", None))
    return igg


def _sign(positive: bool) -> str:
    return "positive" if positive else "negative"


def _period(onset: float) -> str:
    if onset < -7:
        return "preconception"
    if onset <= PERICONCEPTION_TO:
        return "periconception"
    if onset <= FIRST_TRIMESTER_TO:
        return "first_trimester"
    if onset <= SECOND_TRIMESTER_TO:
        return "second_trimester"
    return "third_trimester"


def _transmitted(woman: Woman, inputs: Mapping[str, float], start: int | None) -> tuple[bool, int]:
    """Vertical transmission (early, late): the period's rate, lowered by valacyclovir started
    in time; a treated primary infection not transmitted by then may still be transmitted late,
    after the course ends (seed 000), with a good prognosis. One uniform draw decides both, so
    a more effective drug never raises a woman's total risk (min(early + (1 - early) × late, p))."""
    if math.isnan(woman.onset):
        return woman.seropositive and woman.u["nonprimary"] < inputs["nonprimary_congenital_risk"], 0
    period = _period(woman.onset)
    p = inputs[f"transmission_{period}"]
    if start is None or period == "third_trimester":
        return woman.u["transmission"] < p, 0
    ratio = inputs["valacyclovir_odds_ratio_second_trimester" if period == "second_trimester" else "valacyclovir_odds_ratio"]
    odds_ratio = ratio if start - woman.onset <= inputs["valacyclovir_window_weeks"] * 7 else 1.0
    early = odds_ratio * p / (1 - p + odds_ratio * p)
    late = early + (1 - early) * inputs["late_transmission_after_negative_amniocentesis"]
    u = woman.u["transmission"]
    return u < early, int(early <= u < min(late, p))


def _outcome_risks(woman: Woman, inputs: Mapping[str, float]) -> tuple[float, float]:
    """Risks of a symptomatic newborn and of sequelae, given fetal infection: after a non-primary
    maternal infection the rates reported for it (close to primary: Ross 2006, Maltezou 2020),
    after a primary infection by its period (Chatzakis 2020, Faure-Bardon 2019)."""
    if math.isnan(woman.onset):
        return inputs["symptomatic_nonprimary"], inputs["sequelae_nonprimary"]
    period = _period(woman.onset)
    if period in ("preconception", "periconception"):
        return inputs["symptomatic_periconception"], inputs["sequelae_first_trimester"]
    if period == "first_trimester":
        return inputs["symptomatic_first_trimester"], inputs["sequelae_first_trimester"]
    return inputs["symptomatic_later"], inputs["sequelae_later"]


def _signs(woman: Woman, inputs: Mapping[str, float], affected: bool, day: int) -> tuple[str, ...]:
    """AIFA Table 1 signs seen on an ultrasound on ``day`` in a fetus that will be symptomatic:
    none before the maternal infection (probe12 #4: a fetus infected at 27.6 weeks showed signs
    on the 20-week scan). After a non-primary infection (no onset day) as before."""
    if not affected or woman.u["ultrasound"] >= inputs["ultrasound_detects_affected"]:
        return ()
    if not math.isnan(woman.onset) and woman.onset >= day:
        return ()
    if woman.u["severe"] < inputs["severe_cerebral_share"]:
        return ("periventricular_hyperechogenicity",)
    return ("hepatomegaly",)
