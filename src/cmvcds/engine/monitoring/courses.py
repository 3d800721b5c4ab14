"""Courses, episodes and calendar arithmetic: therapy entries grouped into courses of one drug."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from cmvcds.domain.case import TherapyCourse
from cmvcds.domain.fast_init import fast_init
from cmvcds.domain.memo import same_call


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (clamped to the month's last day)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    if day.day <= 28:  # every month has it
        return date(year, month, day.day)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_on_or_after(day: date, months: range, on: date) -> list[date]:
    """``add_months(day, m)`` for each ``m`` of ``months`` (an increasing range) that falls on or
    after ``on``, in order, without computing the earlier ones.

    A follow-up calendar to school age dated from birth and assessed months later computed ~90
    past dates per case only to drop them (issue 20). Every ``m`` up to ``before`` lands in a
    calendar month before ``on``'s month, so it is skipped by arithmetic; the dates from there on
    are computed and compared as before.
    """
    before = (on.year - day.year) * 12 + on.month - day.month - 1
    skip = max(0, -(-(before + 1 - months.start) // months.step))
    return [d for d in (add_months(day, m) for m in months[skip:]) if d >= on]


def monthly_on_or_after(day: date, first: int, on: date) -> Iterator[date]:
    """``add_months(day, m)`` for ``m`` = ``first``, ``first`` + 1, … that falls on or after
    ``on``, in order and without end (the caller stops at its horizon); the months before ``on``'s
    month are skipped by arithmetic, as in ``months_on_or_after``."""
    month = max(first, (on.year - day.year) * 12 + on.month - day.month)
    while True:
        found = add_months(day, month)
        if found >= on:
            yield found
        month += 1


def recurring_days(start: date, every: int, on: date, last: date) -> Iterator[date]:
    """``start``, ``start`` + ``every`` days, … from the first on or after ``on`` through ``last``:
    the days before ``on`` are skipped by arithmetic, not stepped through (issue 20)."""
    first, today = start.toordinal(), on.toordinal()
    if first < today:
        first += every * -((first - today) // every)
    return map(date.fromordinal, range(first, last.toordinal() + 1, every))


def days_covered(spans: Iterable[tuple[date, date]]) -> int:
    """How many distinct days the ``(first, last)`` spans cover, both ends included (a span
    whose last day is before its first covers none).

    Counted by merging the spans in day numbers; listing every date of every course into a set
    was one ``date`` per day of therapy, hundreds per HIV case (issue 20)."""
    count, reached = 0, 0  # reached: the last day number counted (ordinals start at 1)
    for first, last in sorted((a.toordinal(), b.toordinal()) for a, b in spans):
        first = max(first, reached + 1)
        if last >= first:
            count += last - first + 1
            reached = last
    return count


@fast_init
@dataclass(frozen=True)
class Course:
    """One drug given continuously; later entries of the same drug continue it with a new dose."""

    drug: str
    entries: tuple[TherapyCourse, ...]

    @property
    def start(self) -> date:
        return self.entries[0].start

    @property
    def stop(self) -> date | None:
        return self.entries[-1].stop

    def current(self, on: date) -> TherapyCourse:
        """The entry in force on ``on`` (the latest started; the first if none has started)."""
        started = [e for e in self.entries if e.start <= on]
        return started[-1] if started else self.entries[0]

    def active_on(self, on: date) -> bool:
        return self.start <= on and (self.stop is None or self.stop >= on)

    def end_by(self, on: date) -> date:
        """The last day given by ``on`` (the stop date, or ``on`` for an ongoing course)."""
        return on if self.stop is None or self.stop > on else self.stop


def therapy_courses(therapy: Iterable[TherapyCourse]) -> tuple[Course, ...]:
    """Group therapy entries into courses: same drug, each entry starting by the day after the last stop.

    A case's own (immutable) therapy tuple is grouped once per assessment: the monitoring,
    transplant, congenital and HIV pathways all ask for its courses."""
    if type(therapy) is tuple:
        return _courses_of(therapy)
    return _group_courses(therapy)


@same_call
def _courses_of(therapy: tuple[TherapyCourse, ...]) -> tuple[Course, ...]:
    return _group_courses(therapy)


def _group_courses(therapy: Iterable[TherapyCourse]) -> tuple[Course, ...]:
    by_drug: dict[str, list[TherapyCourse]] = {}
    for entry in therapy:
        by_drug.setdefault(entry.drug, []).append(entry)
    courses: list[Course] = []
    for drug, entries in by_drug.items():
        entries.sort(key=lambda e: (e.start, e.stop or date.max))
        chain = [entries[0]]
        for entry in entries[1:]:
            last_stop = chain[-1].stop
            if last_stop is not None and entry.start > last_stop + timedelta(days=1):
                courses.append(Course(drug, tuple(chain)))
                chain = []
            chain.append(entry)
        courses.append(Course(drug, tuple(chain)))
    return tuple(sorted(courses, key=lambda c: (c.start, c.drug)))


@fast_init
@dataclass(frozen=True)
class Episode:
    """Days on any of a set of drugs, overlapping or adjacent courses merged (``end`` inclusive)."""

    start: date
    end: date
    drugs: tuple[str, ...]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def episodes(courses: Iterable[Course], drugs: Iterable[str], on: date) -> tuple[Episode, ...]:
    """The episodes of therapy with ``drugs`` up to ``on`` (courses starting later are ignored)."""
    wanted = set(drugs)
    return merged_episodes(
        (c.start, c.end_by(on), c.drug) for c in courses if c.drug in wanted and c.start <= on
    )


def merged_episodes(spans: Iterable[tuple[date, date, str]]) -> tuple[Episode, ...]:
    """The ``(start, end, drug)`` spans merged where they overlap or touch, in date order."""
    merged: list[Episode] = []
    for start, end, drug in sorted(spans):
        if merged and start <= merged[-1].end + timedelta(days=1):
            last = merged[-1]
            names = last.drugs if drug in last.drugs else (*last.drugs, drug)
            merged[-1] = Episode(last.start, max(last.end, end), names)
        else:
            merged.append(Episode(start, end, (drug,)))
    return tuple(merged)


def episode_of(day: date, spans: Sequence[Episode]) -> Episode | None:
    """The episode that contains ``day``, if any."""
    for episode in spans:
        if episode.start <= day <= episode.end:
            return episode
    return None


def evidence_limit(months: int | None, days: int | None, start: date) -> date:
    """The date a course started on ``start`` reaches ``months`` (calendar) or ``days``."""
    return add_months(start, months) if months is not None else start + timedelta(days=days or 0)


def entry_end(course: Course, index: int, on: date) -> date:
    """The last day entry ``index`` was in force by ``on`` (until the next entry starts)."""
    entry = course.entries[index]
    if index + 1 < len(course.entries):
        following = course.entries[index + 1].start - timedelta(days=1)
        end = following if entry.stop is None else min(entry.stop, following)
    else:
        end = entry.stop or on
    return max(entry.start, min(end, on))
