"""Is the scheduled liver check done? The latest ALT of a course whose calendar plans one.

A course's surveillance calendar may plan transaminases (congenital valganciclovir: ALT monthly,
``monitoring/schedules.yaml`` ``cong-liver``, Kimberlin 2015). The latest ALT measured during the
course is read against that plan: shown with its date and whether the check planned in the last
interval was done. No ALT threshold acts on the course: neither the Valcyte/Cytovene labels nor
the sources read give one for holding or changing the drug, and the output says so.
"""

from __future__ import annotations

from datetime import date, timedelta

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult
from cmvcds.engine.monitoring.common import plain
from cmvcds.engine.monitoring.courses import Course
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.monitoring import MonitoringSchedules

__all__ = ["liver_checks"]

#: A monthly check counts as done when an ALT was measured within this many days.
_MONTH_DAYS = 31


def liver_checks(
    result: PathwayResult, case: Case, knowledge: Knowledge, course: Course, on: date
) -> None:
    """``findings.liver_function[drug]`` for a running course whose calendar plans liver tests."""
    table = knowledge.table("monitoring_schedules", MonitoringSchedules)
    rules = [
        r
        for r in table.rules
        if r.event == "liver-function" and r.applies(case.context.value, course.drug)
    ]
    if not rules:
        return
    for rule in rules:
        result.cite(rule, f"monitoring schedule {rule.id}")
    alt = [o for o in case.results("alt") if o.value is not None and course.start <= o.date <= on]
    entry: dict[str, object]
    if not alt:
        entry = {
            "alt": None,
            "due": "no ALT since the course start: the planned liver check is due",
        }
    else:
        latest = alt[-1]
        assert latest.value is not None
        recent = on - latest.date <= timedelta(days=_MONTH_DAYS)
        entry = {
            "alt": f"{plain(latest.value)} U/L",
            "date": latest.date.isoformat(),
            "due": (
                "done this month"
                if recent
                else f"last ALT {(on - latest.date).days} days ago: the monthly check is due"
            ),
        }
    entry["threshold"] = "none encoded: the sources read give no ALT limit that changes the course"
    result.findings.setdefault("liver_function", {})[course.drug] = entry
