"""The cheaper monitoring, transplant and same-time code gives exactly what the plain code gave
(issue 20: zero changed answers), on generated cases and on random calendars.

Each ``_plain_*`` function is the code that was replaced, kept here as the reference:
``current`` and ``conflicting_dates`` in one pass (and the fast "no contradiction at all" exit of
``without_contradictions``); calendars that skip past months by arithmetic and compare dates with
the checks already planned; refractory calls and below-target doses computed once per case.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest

from cmvcds.domain.case import Case, Observation, parse_case
from cmvcds.domain.results import PathwayResult, ScheduleItem
from cmvcds.domain.vocabulary import Indication, ScheduleEvent
from cmvcds.engine.dosing import dose_patient_from_case
from cmvcds.engine.monitoring.courses import (
    Course,
    add_months,
    entry_end,
    episodes,
    monthly_on_or_after,
    recurring_days,
    therapy_courses,
)
from cmvcds.engine.monitoring.dose import (
    _patient_dose_alerts,
    dose_alerts,
    drugs_below_target,
    indication_of,
)
from cmvcds.engine.monitoring.refractory import (
    _treatment_episodes,
    below_target,
    refractory_calls,
)
from cmvcds.engine.monitoring.schedule import planned_dates
from cmvcds.engine.same_time import (
    _compared,
    conflicting_dates,
    current,
    reading,
    without_contradictions,
)
from cmvcds.engine.transplant.common import schedule_monitoring
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.monitoring import ScheduleRule
from cmvcds.knowledge.schemas.transplant import RegimenMonitoring

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from bulk_cases import generate  # noqa: E402

TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def cases(knowledge: Knowledge) -> list[Case]:
    return [parse_case(raw, knowledge, today=TODAY) for raw in generate(600, seed=20)]


# --- same time ------------------------------------------------------------------------------------


def _plain_current(observations: list[Observation], on: date) -> Observation | None:
    found = [o for o in observations if o.date <= on and reading(o) is not None]
    if not found:
        return None
    day = max(o.date for o in found)
    last = [o for o in found if o.date == day]
    return last[0] if len({reading(o) for o in last}) == 1 else None


def _plain_conflicting(observations: list[Observation], on: date) -> dict[Any, list[date]]:
    values: dict[Any, set[Any]] = {}
    for o in observations:
        seen = reading(o)
        if seen is not None and o.date <= on:
            key = (o.code, o.specimen, o.fetus, o.hours_after_dose)
            values.setdefault((key, o.date), set()).add(seen)
    found: dict[Any, list[date]] = {}
    for (key, day), results in sorted(values.items(), key=lambda item: item[0][1]):
        if len(results) > 1:
            found.setdefault(key, []).append(day)
    return found


def _with_repeats(case: Case, rng: random.Random) -> tuple[Observation, ...]:
    """The case's observations with some repeated on their date: equal, or with another value."""
    out = list(case.observations)
    for o in case.observations:
        if rng.random() < 0.3:
            value = o.value
            if value is not None and rng.random() < 0.6:
                value = value * Decimal(rng.choice(("1", "1.0", "2", "0.5")))
            out.insert(rng.randint(0, len(out)), o.model_copy(update={"value": value}))
    rng.shuffle(out)
    return tuple(out)


def test_same_time_matches_the_plain_code(cases: list[Case]) -> None:
    rng = random.Random(7)
    codes = ("weight", "creatinine", "egfr", "anc", "platelets", "cmv_dna", "alt", "height")
    for case in cases:
        observations = _with_repeats(case, rng)
        for on in (case.assessed_on, case.assessed_on - timedelta(days=rng.randint(0, 60))):
            assert conflicting_dates(observations, on) == _plain_conflicting(list(observations), on)
            assert list(conflicting_dates(observations, on)) == list(
                _plain_conflicting(list(observations), on)
            )
            for code in codes:
                rows = [o for o in observations if o.code == code]
                assert current(rows, on) is _plain_current(rows, on), (case.id, code, on)


def test_no_contradiction_at_all_means_none_among_those_compared(cases: list[Case]) -> None:
    rng = random.Random(8)
    for case in cases:
        changed = case.model_copy(update={"observations": _with_repeats(case, rng)})
        compared = [o for o in changed.observations if _compared(changed)(o)]
        _, found = without_contradictions(changed, changed.assessed_on)
        assert bool(found.alerts) == bool(_plain_conflicting(compared, changed.assessed_on))


# --- calendars ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    at_weeks: tuple[int, ...]
    monthly_from: int | None


def _plain_planned(rule: _Rule, start: date, end: date, since: date | None) -> list[date]:
    days: set[date] = {start + timedelta(weeks=w) for w in rule.at_weeks}
    if rule.monthly_from:
        month = rule.monthly_from
        while add_months(start, month) <= end:
            days.add(add_months(start, month))
            month += 1
    return [d for d in sorted(d for d in days if start < d <= end) if since is None or d >= since]


def test_planned_dates_match_the_plain_loop() -> None:
    rng = random.Random(9)
    for _ in range(20_000):
        start = date(2020, 1, 1) + timedelta(days=rng.randint(0, 2000))
        end = start + timedelta(days=rng.randint(-10, 1200))
        since = rng.choice((None, start + timedelta(days=rng.randint(-30, 1300))))
        rule = _Rule(
            tuple(rng.sample(range(0, 30), rng.randint(0, 4))),
            rng.choice((None, 0, 1, 2, 3, 6)),
        )
        got = planned_dates(cast(ScheduleRule, rule), start, end, since)
        assert list(got) == _plain_planned(rule, start, end, since), (rule, start, end, since)


def test_monthly_dates_match_add_months() -> None:
    rng = random.Random(10)
    for _ in range(5_000):
        day = date(2023, 1, 28) + timedelta(days=rng.randint(0, 5))  # month ends included
        first = rng.randint(0, 12)
        on = day + timedelta(days=rng.randint(-100, 900))
        plain = [d for d in (add_months(day, m) for m in range(first, first + 60)) if d >= on]
        dates = monthly_on_or_after(day, first, on)
        assert [next(dates) for _ in range(10)] == plain[:10]


def test_recurring_days_match_the_stepping_loop() -> None:
    rng = random.Random(12)
    for _ in range(20_000):
        start = date(2025, 1, 1) + timedelta(days=rng.randint(0, 400))
        every = rng.randint(1, 30)
        on = start + timedelta(days=rng.randint(-60, 300))
        last = start + timedelta(days=rng.randint(-10, 400))
        plain, day = [], start
        while day <= last:
            if day >= on:
                plain.append(day)
            day += timedelta(days=every)
        assert list(recurring_days(start, every, on, last)) == plain, (start, every, on, last)


def _plain_schedule_monitoring(
    result: PathwayResult,
    monitoring: RegimenMonitoring,
    drug: str,
    indication: str,
    population: str,
    start: date,
    stop: date | None,
    on: date,
) -> None:
    last = stop or max(start, on) + timedelta(days=int(monitoring.open_course_horizon_days.value))
    planned = set(result.schedule)
    for item in monitoring.items(drug, indication, population):
        citations = item.citations
        event, reason = ScheduleEvent(item.event), f"{drug}: {item.reason}"
        step = timedelta(days=item.every_days)
        day = start
        if day < on:
            day += step * -((start - on).days // item.every_days)
        while day <= last:
            entry = ScheduleItem(event, day, citations, reason=reason)
            if entry not in planned:
                planned.add(entry)
                result.schedule.append(entry)
            day += step


def test_schedule_monitoring_matches_the_plain_loop(knowledge: Knowledge) -> None:
    monitoring = knowledge.table("regimen_monitoring", RegimenMonitoring)
    rng = random.Random(11)
    uses = [
        (entry.drug, indication, population)
        for entry in monitoring.drugs
        for indication in ("prophylaxis", "preemptive", "induction", "maintenance")
        for population in ("sot", "hsct", "hiv", "other")
    ]
    for _ in range(2_000):
        start = date(2025, 1, 1) + timedelta(days=rng.randint(0, 400))
        on = start + timedelta(days=rng.randint(-40, 200))
        stop = rng.choice((None, start + timedelta(days=rng.randint(0, 300))))
        calls = rng.sample(uses, 3)
        fast, plain = PathwayResult(), PathwayResult()
        for drug, indication, population in calls:
            schedule_monitoring(fast, knowledge, drug, indication, population, start, stop, on)
            _plain_schedule_monitoring(
                plain, monitoring, drug, indication, population, start, stop, on
            )
        assert fast.schedule == plain.schedule


# --- once per case --------------------------------------------------------------------------------


def test_refractory_calls_once_per_case_equal_a_fresh_computation(
    cases: list[Case], knowledge: Knowledge
) -> None:
    fresh_calls = refractory_calls.__wrapped__  # type: ignore[attr-defined]
    for case in cases:
        on = case.assessed_on
        expected = drugs_below_target(case, knowledge, therapy_courses(case.therapy), on)
        assert below_target(case, knowledge, on) == expected
        assert refractory_calls(case, knowledge, on) == fresh_calls(case, knowledge, on)
        assert refractory_calls(case, knowledge, on) is refractory_calls(case, knowledge, on)


def test_dose_alerts_remembered_per_patient_equal_a_fresh_check(
    cases: list[Case], knowledge: Knowledge
) -> None:
    """The monitoring pathway's dose check and the below-target doses share one ``check_dose``
    per entry and patient: the remembered alerts equal a fresh check, for every indication."""
    fresh = _patient_dose_alerts.__wrapped__  # type: ignore[attr-defined]
    checked = 0
    for case in cases:
        on = case.assessed_on
        patient = dose_patient_from_case(case, on)
        for course in therapy_courses(case.therapy):
            entry = course.current(on)
            given = indication_of(case, entry, knowledge)
            for indication in {given, *Indication} - {None}:
                assert indication is not None
                expected = fresh(patient, entry, knowledge, indication)
                assert dose_alerts(entry, patient, knowledge, indication) == expected
                assert dose_alerts(entry, patient, knowledge, indication) is dose_alerts(
                    entry, patient, knowledge, indication
                )
                checked += bool(expected)
    assert checked > 50


def test_treatment_episodes_match_copied_entries(cases: list[Case]) -> None:
    """The spans of the entries in force equal episodes of entries copied with that stop."""
    for case in cases:
        courses = therapy_courses(case.therapy)
        drugs = {c.drug for c in courses}
        for on in (case.assessed_on, case.assessed_on - timedelta(days=20)):
            copied = [
                Course(c.drug, (e.model_copy(update={"stop": entry_end(c, i, on)}),))
                for c in courses
                for i, e in enumerate(c.entries)
                if e.indication != "prophylaxis" and e.start <= on
            ]
            for wanted in (drugs, set(list(drugs)[:1])):
                assert _treatment_episodes(courses, wanted, on) == episodes(copied, wanted, on)
