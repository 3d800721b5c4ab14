"""Monitoring during valacyclovir (AIFA Table 2 as data; rows unverified until transcribed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cmvcds.domain.results import PathwayResult, ScheduleItem, schedule_items
from cmvcds.domain.vocabulary import ScheduleEvent
from cmvcds.knowledge.schemas.pregnancy import MonitoringItem, MonitoringTable

__all__ = ["MonitoringPlan", "PlannedCheck", "monitoring_plan", "monitoring_schedule"]


@dataclass(frozen=True)
class PlannedCheck:
    """One Table 2 row as a course reads it: its fixed day offsets (distinct, ascending), then
    every ``every_days`` after the last of them (or after the start)."""

    row: MonitoringItem
    event: ScheduleEvent
    offsets: tuple[int, ...]
    every_days: int | None
    repeats_from: int  # the day of the first repeat (when ``every_days``)
    what: str  # how an unverified row is named in its alert


#: The checks of each course (``prevention``/``fetal-treatment``), in the table's order.
MonitoringPlan = dict[str, tuple[PlannedCheck, ...]]


def monitoring_plan(table: MonitoringTable) -> MonitoringPlan:
    """Table 2 by course, read once per pack (it was filtered and sorted again for every course
    of every case, issue 20)."""
    plan: dict[str, list[PlannedCheck]] = {}
    for row in table.items:
        offsets = tuple(sorted(set(row.at_days)))
        check = PlannedCheck(
            row,
            ScheduleEvent(row.event),
            offsets,
            row.every_days,
            (offsets[-1] if offsets else 0) + (row.every_days or 0),
            f"monitoring during valacyclovir: {row.event} ({row.reason})",
        )
        for course in dict.fromkeys(row.applies_to):
            plan.setdefault(course, []).append(check)
    return {course: tuple(checks) for course, checks in plan.items()}


def monitoring_schedule(
    plan: MonitoringPlan, course: str, start: date, until: date, result: PathwayResult
) -> list[ScheduleItem]:
    """Every planned check of ``course`` (``prevention``/``fetal-treatment``) from ``start`` to
    before ``until``: the fixed offsets, then the repeats, counted by arithmetic."""
    items: list[ScheduleItem] = []
    span = (until - start).days  # a check on day d of the course is planned when d < span
    first = start.toordinal()  # day d is the date of ordinal first + d (cheaper than a timedelta)
    of = date.fromordinal
    for check in plan.get(course, ()):
        days = [d for d in check.offsets if d < span]
        if check.every_days:
            days += range(check.repeats_from, span, check.every_days)
        if not days:
            continue
        citations = result.cite(check.row, check.what)
        event, reason = check.event, check.row.reason
        items += schedule_items(event, [of(first + d) for d in days], citations, reason)
    return items
