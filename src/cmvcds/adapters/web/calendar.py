"""The monitoring calendar of an assessment: its ``schedule`` grouped by month and day (a list a
390 px phone reads), and the same events as an iCalendar file (RFC 5545, ``icalendar``).

Every date is the engine's (``schedule[].earliest``, and ``latest`` when a window is given);
nothing here computes a date, it only groups and formats them. The file names the case by its
id only: no patient identity goes into a calendar that leaves the hospital on a phone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from babel.dates import format_date
from icalendar import Calendar, Event

from cmvcds.adapters.web import i18n
from cmvcds.adapters.web.texts import clinical

__all__ = ["CalendarDay", "CalendarMonth", "calendar_ics", "monitoring_calendar"]


@dataclass
class CalendarDay:
    day: date
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def weekday(self) -> str:
        return format_date(self.day, "EEE d", locale=i18n.current_language())


@dataclass
class CalendarMonth:
    first: date
    days: list[CalendarDay] = field(default_factory=list)

    @property
    def name(self) -> str:
        return format_date(self.first, "LLLL y", locale=i18n.current_language())


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def monitoring_calendar(doc: dict[str, Any]) -> list[CalendarMonth]:
    """The schedule by month, then by day, in date order (months without an event left out)."""
    by_day: dict[date, CalendarDay] = {}
    for item in doc.get("schedule") or []:
        day = _day(item.get("earliest"))
        if day is not None:
            by_day.setdefault(day, CalendarDay(day)).events.append(item)
    months: dict[tuple[int, int], CalendarMonth] = {}
    for day in sorted(by_day):
        month = months.setdefault((day.year, day.month), CalendarMonth(day.replace(day=1)))
        month.days.append(by_day[day])
    return list(months.values())


def _label(event: str) -> str:
    words = event.replace("-", " ").replace("_", " ")
    shown = i18n.gettext(words)
    return clinical(words) if shown == words else shown  # the catalogue's, else the pack's


def calendar_ics(doc: dict[str, Any], key: int) -> bytes:
    """The schedule of ``doc`` (stored case ``key``) as an iCalendar file of all-day events.

    UIDs are stable (case, position, event, date), so importing a re-assessment again updates
    the events rather than doubling them; DTSTAMP is the assessment date (no clock read)."""
    case_id = str(doc.get("case_id") or key)
    assessed = _day(doc.get("assessed_on")) or date(1970, 1, 1)
    stamp = datetime.combine(assessed, time(0, 0), tzinfo=UTC)
    calendar = Calendar()
    calendar.add("prodid", "-//cmvcds//monitoring calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"cmvcds {case_id}")
    for position, item in enumerate(doc.get("schedule") or []):
        first = _day(item.get("earliest"))
        if first is None:
            continue
        last = _day(item.get("latest")) or first
        event = Event()
        event.add("uid", f"{key}-{position}-{item.get('event')}-{first}@cmvcds")
        event.add("dtstamp", stamp)
        event.add("dtstart", first)
        event.add("dtend", last + timedelta(days=1))
        event.add("summary", f"{_label(str(item.get('event', '')))} — {case_id}")
        sources = ", ".join(item.get("citations") or [])
        reason = clinical(str(item.get("reason") or ""))
        cited = i18n.gettext("Sources:")
        event.add("description", f"{reason}\n{cited} {sources}".strip())
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    ics: bytes = calendar.to_ical()  # icalendar leaves to_ical unannotated (it returns bytes)
    return ics
