"""The surveillance calendar of a course in ``case.therapy`` (this pack's rules, else the immune-status table)."""

from __future__ import annotations

from datetime import date, timedelta

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult, ScheduleItem
from cmvcds.domain.settings import SiteSettings
from cmvcds.domain.vocabulary import (
    ScheduleEvent,
)
from cmvcds.engine.monitoring.common import pregnancy_protocol_course
from cmvcds.engine.monitoring.courses import Course, add_months, evidence_limit
from cmvcds.engine.monitoring.stop_rule import treatment_ended
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.monitoring import (
    EvidenceDurations,
    MonitoringSchedules,
    ScheduleRule,
)
from cmvcds.knowledge.schemas.transplant import RegimenMonitoring


def planned_dates(rule: ScheduleRule, start: date, end: date) -> tuple[date, ...]:
    """Every date ``rule`` plans for a course from ``start`` (day 0) to ``end`` (inclusive)."""
    days: set[date] = {start + timedelta(weeks=w) for w in rule.at_weeks}
    if rule.monthly_from:
        month = rule.monthly_from
        while add_months(start, month) <= end:
            days.add(add_months(start, month))
            month += 1
    return tuple(sorted(d for d in days if start < d <= end))


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
    planned = set(result.schedule)
    for rule in table.rules:
        if not rule.applies(context, drug):
            continue
        dates = [d for d in planned_dates(rule, start, end) if since is None or d >= since]
        if not dates:
            continue
        cited = result.cite(rule, f"monitoring schedule {rule.id}")
        event = ScheduleEvent(rule.event)
        for day in dates:
            item = ScheduleItem(event, day, cited, reason=f"{drug}: {rule.reason}")
            if item not in planned:
                planned.add(item)
                result.schedule.append(item)


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
