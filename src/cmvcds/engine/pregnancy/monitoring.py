"""Monitoring during valacyclovir (AIFA Table 2 as data; rows unverified until transcribed)."""

from __future__ import annotations

from datetime import date, timedelta

from cmvcds.domain.results import PathwayResult, ScheduleItem
from cmvcds.domain.vocabulary import ScheduleEvent
from cmvcds.knowledge.schemas.pregnancy import MonitoringTable

__all__ = ["monitoring_schedule"]


def monitoring_schedule(
    table: MonitoringTable, course: str, start: date, until: date, result: PathwayResult
) -> list[ScheduleItem]:
    """Every planned check of ``course`` (``prevention``/``fetal-treatment``) from ``start`` to before ``until``."""
    items: list[ScheduleItem] = []
    for row in table.items:
        if course not in row.applies_to:
            continue
        offsets = sorted(set(row.at_days))
        if row.every_days:
            day = (offsets[-1] if offsets else 0) + row.every_days
            while start + timedelta(days=day) < until:
                offsets.append(day)
                day += row.every_days
        planned = [start + timedelta(days=d) for d in offsets if start + timedelta(days=d) < until]
        if not planned:
            continue
        citations = result.cite(row, f"monitoring during valacyclovir: {row.event} ({row.reason})")
        items += [
            ScheduleItem(ScheduleEvent(row.event), day, citations, reason=row.reason)
            for day in planned
        ]
    return items
