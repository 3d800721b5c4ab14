"""Viral-load kinetics: series, log10, nadir, change from nadir, slope, doubling time, confirmed rise.

A *series* is every quantified ``cmv_dna`` result of one specimen in one unit: IU/mL and copies/mL,
plasma and whole blood are different scales and are never mixed. Inside a series, points are
ordered by date (then value, so that the order of the case's observations never matters), and
each value is compared as its log10, computed with ``Decimal`` so that a tenfold change is
exactly 1.0 log10 and a threshold of 1.0 is met exactly at ten times the nadir.

A *confirmed rise* (design choice D-4 of ../shared/clinical/pregnancy-congenital.md §4) is a rise
of at least ``threshold`` log10 above the nadir on the latest sample **and** on the sample before
it, the nadir being the lowest value before those two. A single high value is an *unconfirmed*
rise: a repeat sample is due, not an alert.

``chart_data`` turns the series, the alerts and the therapy into values a web page can draw.
Everything here is pure: no clock, no I/O, no knowledge lookups (thresholds are passed in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Protocol

from cmvcds.domain.fast_init import fast_init
from cmvcds.domain.memo import same_call
from cmvcds.engine.exact_log import log10 as exact_log10

__all__ = [
    "ChartData",
    "Marker",
    "Point",
    "Rise",
    "Series",
    "TherapyBar",
    "Trend",
    "auc_trapezoid",
    "change_log10",
    "chart_data",
    "confirmed_rise",
    "log10",
    "nadir",
    "series_key",
    "trend",
    "viral_load_series",
]

_LOG_PLACES = Decimal("0.001")
_ONE = Decimal(1)
_LOG10_2 = Decimal(2).log10()
_NON_QUANTIFIED = ("not_detected", "detected_below_lloq", "below_lloq", "detected")


class _Observation(Protocol):
    """What kinetics reads from an observation (``domain.case.Observation`` satisfies it)."""

    @property
    def date(self) -> date: ...
    @property
    def code(self) -> str: ...
    @property
    def value(self) -> Decimal | None: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def specimen(self) -> str | None: ...
    @property
    def result(self) -> str | None: ...


def log10(value: Decimal) -> Decimal:
    """The exact-as-Decimal log10 of a positive value (a value of 0 counts as 1 copy: log10 0);
    ``Decimal.log10``'s own answer, computed faster (``exact_log``)."""
    return exact_log10(max(value, _ONE))


@fast_init
@dataclass(frozen=True)
class Point:
    """One quantified viral load."""

    day: date
    value: Decimal
    log10: Decimal

    @classmethod
    def of(cls, day: date, value: Decimal) -> Point:
        return cls(day, value, log10(value))


@fast_init
@dataclass(frozen=True)
class Series:
    """Every viral load of one specimen in one unit, oldest first (``key`` e.g. ``plasma IU/mL``)."""

    specimen: str
    unit: str
    points: tuple[Point, ...]
    not_quantified: tuple[tuple[date, str], ...] = ()

    @property
    def key(self) -> str:
        return series_key(self.specimen, self.unit)

    def between(self, start: date, end: date) -> Series:
        """The same series restricted to ``start`` ≤ date ≤ ``end``."""
        return Series(
            self.specimen,
            self.unit,
            tuple(p for p in self.points if start <= p.day <= end),
            tuple(n for n in self.not_quantified if start <= n[0] <= end),
        )


def series_key(specimen: str, unit: str) -> str:
    return f"{specimen} {unit}"


def viral_load_series(
    observations: Iterable[_Observation], until: date | None = None
) -> tuple[Series, ...]:
    """Group the ``cmv_dna`` results (up to ``until``) into series by specimen and unit.

    Results without a value (``not_detected`` …) have no unit: they are attached to every series
    of their specimen, as markers, never as numbers. Series are ordered by specimen then unit.
    A case's own (immutable) observations are grouped once per assessment: the pathways ask for
    the same series several times.
    """
    if type(observations) is tuple:
        return _series(observations, until)
    return _group(observations, until)


@same_call
def _series(observations: tuple[_Observation, ...], until: date | None) -> tuple[Series, ...]:
    return _group(observations, until)


def _group(observations: Iterable[_Observation], until: date | None) -> tuple[Series, ...]:
    quantified: dict[tuple[str, str], list[Point]] = {}
    flags: dict[str, list[tuple[date, str]]] = {}
    for o in observations:
        if o.code != "cmv_dna" or o.specimen is None or (until is not None and o.date > until):
            continue
        if o.value is not None and o.unit is not None:
            quantified.setdefault((o.specimen, o.unit), []).append(Point.of(o.date, o.value))
        elif o.result in _NON_QUANTIFIED:
            flags.setdefault(o.specimen, []).append((o.date, o.result))
    out = []
    for (specimen, unit), points in sorted(quantified.items()):
        points.sort(key=lambda p: (p.day, p.value))
        marks = tuple(sorted(flags.get(specimen, ())))
        out.append(Series(specimen, unit, tuple(points), marks))
    return tuple(out)


def nadir(points: Sequence[Point]) -> Point | None:
    """The lowest value (the earliest of equal lowest values); None for no points."""
    if not points:
        return None
    return min(points, key=lambda p: (p.value, p.day))


def change_log10(later: Point, earlier: Point) -> Decimal:
    """log10(later) − log10(earlier), exact to 28 significant digits."""
    return later.log10 - earlier.log10


@dataclass(frozen=True)
class Rise:
    """A rise above the nadir: ``first`` is the first high sample, ``confirmed_by`` its repeat."""

    nadir: Point
    first: Point
    confirmed_by: Point | None
    rise_log10: Decimal

    @property
    def confirmed(self) -> bool:
        return self.confirmed_by is not None


def confirmed_rise(points: Sequence[Point], threshold: Decimal) -> Rise | None:
    """The current rise of at least ``threshold`` log10 above the nadir, or None.

    Confirmed: the last two samples are both ≥ nadir + threshold, the nadir being the lowest of
    the samples before them. Unconfirmed: only the latest sample is that high (its nadir being the
    lowest before it). ``rise_log10`` is measured on the latest sample.
    """
    if len(points) >= 3:
        low = nadir(points[:-2])
        assert low is not None
        before, latest = points[-2], points[-1]
        if change_log10(before, low) >= threshold and change_log10(latest, low) >= threshold:
            return Rise(low, before, latest, change_log10(latest, low))
    if len(points) >= 2:
        low = nadir(points[:-1])
        assert low is not None
        latest = points[-1]
        if change_log10(latest, low) >= threshold:
            return Rise(low, latest, None, change_log10(latest, low))
    return None


@fast_init
@dataclass(frozen=True)
class Trend:
    """The kinetics of a series: nadir, change from it, slope since it and the doubling time."""

    nadir: Point
    latest: Point
    change_from_nadir_log10: Decimal
    slope_log10_per_day: Decimal | None
    doubling_time_days: Decimal | None
    halving_time_days: Decimal | None


def trend(points: Sequence[Point]) -> Trend | None:
    """Nadir, latest, change from nadir and the least-squares slope from the nadir onwards.

    The slope uses the nadir and every later point (at least two points on two different days);
    the doubling time (log10 2 / slope) is given for a rising load, the halving time for a falling
    one. None for an empty series.
    """
    low = nadir(points)
    if low is None:
        return None
    latest = points[-1]
    since = [p for p in points if p.day >= low.day]
    raw = _slope(since)
    slope = None if raw is None else raw.quantize(Decimal("0.0001"))
    double = halve = None
    if slope is not None and slope != 0:
        time = (_LOG10_2 / abs(slope)).quantize(Decimal("0.1"))
        double, halve = (time, None) if slope > 0 else (None, time)
    return Trend(
        low,
        latest,
        change_log10(latest, low).quantize(_LOG_PLACES),
        slope,
        double,
        halve,
    )


def _slope(points: Sequence[Point]) -> Decimal | None:
    if len({p.day for p in points}) < 2:
        return None
    origin = points[0].day
    xs = [Decimal((p.day - origin).days) for p in points]
    ys = [p.log10 for p in points]
    n = Decimal(len(points))
    mean_x, mean_y = sum(xs, Decimal(0)) / n, sum(ys, Decimal(0)) / n
    sxx = sum(((x - mean_x) ** 2 for x in xs), Decimal(0))
    sxy = sum(((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)), Decimal(0))
    return sxy / sxx


def auc_trapezoid(samples: Sequence[tuple[Decimal, Decimal]]) -> Decimal:
    """Area under a concentration–time curve by the linear trapezoid rule.

    ``samples`` are ``(hours after the dose, concentration mg/L)``; the result is in mg·h/L over
    the sampled interval (for an AUC12, sample from 0 to 12 h). Raises ``ValueError`` on fewer
    than two samples, repeated or unordered times, or a negative concentration.
    """
    if len(samples) < 2:
        raise ValueError("an AUC needs at least two concentrations")
    ordered = sorted(samples)
    total = Decimal(0)
    for (t0, c0), (t1, c1) in pairwise(ordered):
        if t1 == t0:
            raise ValueError(f"two concentrations at the same time ({t0} h)")
        if c0 < 0 or c1 < 0:
            raise ValueError("a concentration cannot be negative")
        total += (t1 - t0) * (c0 + c1) / 2
    return total


@fast_init
@dataclass(frozen=True)
class Marker:
    """An alert drawn on a series at the date it fired."""

    series: str
    day: date
    code: str
    label: str


@fast_init
@dataclass(frozen=True)
class TherapyBar:
    """A course drawn under the chart: from ``start`` to ``stop`` (or the assessment date)."""

    drug: str
    start: date
    stop: date
    ongoing: bool
    dose_mg: Decimal | None = None
    every_h: Decimal | None = None


@fast_init
@dataclass(frozen=True)
class ChartSeries:
    key: str
    specimen: str
    unit: str
    points: tuple[Point, ...]
    not_quantified: tuple[tuple[date, str], ...]
    nadir: Point | None
    change_from_nadir_log10: Decimal | None
    slope_log10_per_day: Decimal | None
    doubling_time_days: Decimal | None


@fast_init
@dataclass(frozen=True)
class ChartData:
    """Everything the web page draws: one line per series, markers and therapy bars."""

    series: tuple[ChartSeries, ...]
    markers: tuple[Marker, ...]
    therapy: tuple[TherapyBar, ...]


def chart_data(
    series: Iterable[Series], markers: Iterable[Marker] = (), therapy: Iterable[TherapyBar] = ()
) -> ChartData:
    """The chart of ``series`` with its nadir and kinetics, alert ``markers`` and ``therapy`` bars."""
    lines = []
    for s in series:
        t = trend(s.points)
        lines.append(
            ChartSeries(
                s.key,
                s.specimen,
                s.unit,
                s.points,
                s.not_quantified,
                t.nadir if t else None,
                t.change_from_nadir_log10 if t else None,
                t.slope_log10_per_day if t else None,
                t.doubling_time_days if t else None,
            )
        )
    ordered_markers = tuple(sorted(markers, key=lambda m: (m.day, m.series, m.code)))
    bars = tuple(sorted(therapy, key=lambda b: (b.start, b.drug)))
    return ChartData(tuple(lines), ordered_markers, bars)
