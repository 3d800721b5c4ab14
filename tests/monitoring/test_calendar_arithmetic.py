"""Calendar arithmetic that replaced date-by-date loops gives exactly what the loops gave:
``months_on_or_after`` skips the past months by arithmetic and gives exactly the dates of the
plain loop (every ``add_months`` date of the range, those on or after the day kept);
``days_covered`` counts the days a set of every listed date counts."""

from __future__ import annotations

import random
from datetime import date, timedelta

from cmvcds.engine.monitoring.courses import add_months, days_covered, months_on_or_after


def _plain(day: date, months: range, on: date) -> list[date]:
    return [d for d in (add_months(day, m) for m in months) if d >= on]


def test_random_calendars_match_the_plain_loop() -> None:
    rng = random.Random(20)
    for _ in range(20_000):
        birth = date(2015, 1, 1) + timedelta(days=rng.randint(0, 4000))
        start = rng.randint(0, 30)
        months = range(start, start + rng.randint(0, 120) + 1, rng.randint(1, 12))
        on = birth + timedelta(days=rng.randint(-400, 4000))
        assert months_on_or_after(birth, months, on) == _plain(birth, months, on), (
            birth,
            months,
            on,
        )


def test_month_ends_and_the_day_itself() -> None:
    birth = date(2024, 1, 31)  # clamped to 29 Feb, 30 Apr …
    months = range(0, 25)
    for on in (date(2024, 2, 29), date(2024, 3, 1), date(2024, 1, 31), date(2026, 1, 31)):
        assert months_on_or_after(birth, months, on) == _plain(birth, months, on)
    assert months_on_or_after(birth, months, date(2024, 2, 29))[0] == date(2024, 2, 29)
    assert months_on_or_after(birth, months, date(2026, 2, 1)) == []


def _listed(spans: list[tuple[date, date]]) -> int:
    """The plain count: every date of every span into a set."""
    return len({a + timedelta(days=i) for a, b in spans for i in range((b - a).days + 1)})


def test_days_covered_counts_what_listing_every_date_counts() -> None:
    rng = random.Random(21)
    for _ in range(5_000):
        spans = []
        for _ in range(rng.randint(0, 6)):
            first = date(2024, 1, 1) + timedelta(days=rng.randint(0, 300))
            spans.append((first, first + timedelta(days=rng.randint(-5, 120))))
        assert days_covered(spans) == _listed(spans), spans
    same_day = date(2025, 5, 1)
    assert days_covered([(same_day, same_day), (same_day, same_day)]) == 1
    assert days_covered([(same_day, same_day - timedelta(days=1))]) == 0
