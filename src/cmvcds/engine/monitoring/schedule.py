"""The surveillance calendar of a course in ``case.therapy`` (this pack's rules, else the immune-status table)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult, ScheduleItem, schedule_items
from cmvcds.domain.settings import SiteSettings
from cmvcds.domain.vocabulary import (
    ScheduleEvent,
)
from cmvcds.engine.monitoring.common import pregnancy_protocol_course
from cmvcds.engine.monitoring.courses import Course, evidence_limit, monthly_on_or_after
from cmvcds.engine.monitoring.stop_rule import treatment_ended
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.monitoring import (
    EvidenceDurations,
    MonitoringSchedules,
    ScheduleRule,
)
from cmvcds.knowledge.schemas.transplant import RegimenMonitoring

_DAY = timedelta(days=1)


def planned_dates(
    rule: ScheduleRule, start: date, end: date, since: date | None = None
) -> tuple[date, ...]:
    """Every date ``rule`` plans for a course from ``start`` (day 0) to ``end`` (inclusive), from
    ``since`` on when given (the months before it are skipped by arithmetic, issue 20)."""
    first = start + _DAY if since is None or since <= start else since
    days: set[date] = {
        d for w in rule.at_weeks if first <= (d := start + timedelta(weeks=w)) <= end
    }
    if rule.monthly_from:
        for day in monthly_on_or_after(start, rule.monthly_from, first):
            if day > end:
                break
            days.add(day)
    return tuple(sorted(days))


def planned_days(
    schedule: Iterable[ScheduleItem], event: ScheduleEvent, citations: tuple[str, ...], reason: str
) -> set[date]:
    """The days ``schedule`` already holds this very check on (same event, citations and reason,
    no latest date): a calendar adds only the others, so that a check planned twice is kept once.

    The dates are compared instead of building a set of every item and a new item for each
    candidate date (hashing frozen dataclasses was most of the calendars' cost, issue 20)."""
    return {
        s.earliest
        for s in schedule
        if s.reason == reason and s.event == event and s.citations == citations and s.latest is None
    }


def plan_schedule(
    result: PathwayResult,
    knowledge: Knowledge,
    context: str,
    drug: str,
    start: date,
    end: date,
    *,
    since: date | None = None,
) -> None:
    """Add the surveillance calendar of a course of ``drug`` from ``start`` to ``end`` to ``result``.

    Dates before ``since`` (the assessment date of a running course) are past, not plans: left out.
    """
    table = knowledge.table("monitoring_schedules", MonitoringSchedules)
    for rule in table.rules:
        if not rule.applies(context, drug):
            continue
        dates = planned_dates(rule, start, end, since)
        if not dates:
            continue
        cited = result.cite(rule, f"monitoring schedule {rule.id}")
        event, reason = ScheduleEvent(rule.event), f"{drug}: {rule.reason}"
        taken = planned_days(result.schedule, event, cited, reason)
        result.schedule += schedule_items(
            event, [day for day in dates if day not in taken], cited, reason
        )


def _planned_end(knowledge: Knowledge, context: str, course: Course, on: date) -> date:
    """The stop date; else the end of the evidence (while it is ahead); else ``on`` + the horizon.

    A course still given beyond its evidence (seed 001: severe congenital cases) is monitored
    while it is given, up to the horizon of an open course.
    """
    if course.stop is not None:
        return course.stop
    for row in knowledge.table("monitoring_evidence", EvidenceDurations).durations:
        if row.applies(context, course.drug):
            limit = evidence_limit(row.months, row.days, course.start)
            if limit >= on:
                return limit
    return on + timedelta(days=_horizon_days(knowledge))


def _horizon_days(knowledge: Knowledge) -> int:
    return int(
        knowledge.table("regimen_monitoring", RegimenMonitoring).open_course_horizon_days.value
    )


def schedule_course(
    result: PathwayResult,
    knowledge: Knowledge,
    case: Case,
    course: Course,
    on: date,
    settings: SiteSettings,
) -> None:
    """The calendar of a course in therapy: this pack's rules (infants), else the immune-status table.

    Adults (transplant, HIV, others) follow ``transplant/monitoring.yaml`` through the function
    the immune-status pathways use, so the same course gets the same dates whichever plans it.
    A treatment course that has met its stop rule today ends: nothing more is planned for it.
    """
    if treatment_ended(case, knowledge, settings, course, on):
        return
    context = case.context.value
    table = knowledge.table("monitoring_schedules", MonitoringSchedules)
    if any(rule.applies(context, course.drug) for rule in table.rules):
        plan_schedule(
            result,
            knowledge,
            context,
            course.drug,
            course.start,
            _planned_end(knowledge, context, course, on),
            since=on,
        )
        return
    if pregnancy_protocol_course(case, knowledge, course.drug) or not isinstance(
        knowledge.tables.get("regimen_monitoring"), RegimenMonitoring
    ):
        return
    from cmvcds.engine.transplant.common import phase, schedule_monitoring

    transplant = case.transplant
    population = (
        ("hsct" if transplant.organ == "hsct" else "sot")
        if transplant
        else ("hiv" if context == "hiv" else "other")
    )
    current = course.current(on)
    start = current.start
    for entry in reversed(course.entries[: course.entries.index(current)]):
        if phase(entry.indication) != phase(current.indication):
            break  # e.g. prophylaxis before a treatment dose: the new phase has its own calendar
        start = entry.start
    schedule_monitoring(
        result,
        knowledge,
        course.drug,
        current.indication or "",
        population,
        start,
        course.stop,
        on,
    )
