"""Server-side SVG charts drawn from the assessment JSON and the case (no JavaScript).

- ``pregnancy_timeline``: a gestational-age axis with the maternal-infection onset window, the
  protocol landmarks, the earliest amniocentesis date, each treatment bar and its stop date.
- ``viral_load_chart``: CMV DNA on a log10 axis, one series per specimen and unit (IU/mL and
  copies/mL are never merged), therapy bars underneath, the nadir and alert markers.

Every mark carries ``data-*`` attributes naming what it shows, so tests and screen readers can
find it; the numbers drawn are those of the JSON, nothing recomputed clinically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import Any

from cmvcds.domain.gestational_age import GestationalAge
from cmvcds.errors import CmvcdsError

__all__ = ["Landmark", "pregnancy_timeline", "viral_load_chart"]

WIDTH = 760
LEFT = 150
RIGHT = 24
COLOURS = ("#1f5fa8", "#c2571a", "#2a8a4a", "#8a2a7a", "#5a5a5a", "#a88a1f")


@dataclass(frozen=True)
class Landmark:
    """A labelled gestational age drawn as a dashed line (e.g. a protocol limit)."""

    ga: GestationalAge
    label: str


def _key_dates(key_dates: Any) -> list[Landmark]:
    """The pathway's ``findings.key_dates`` (``{"20+1": "2026-05-10", …}``) as landmarks."""
    if not isinstance(key_dates, dict):
        return []
    return [Landmark(GestationalAge.parse(ga), str(day)) for ga, day in key_dates.items()]


def _d(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _ga_text(days: int) -> str:
    return str(GestationalAge(max(days, 0)))


def pregnancy_timeline(doc: dict[str, Any], landmarks: Sequence[Landmark] = ()) -> str | None:
    """The pregnancy timeline of an assessment, or None when the pregnancy is not dated."""
    findings = doc.get("findings") or {}
    ga_now = findings.get("gestational_age")
    assessed = _d(doc.get("assessed_on"))
    if not isinstance(ga_now, str) or assessed is None:
        return None
    try:
        lmp = assessed - timedelta(days=GestationalAge.parse(ga_now).days)
        landmarks = [*landmarks, *_key_dates(findings.get("key_dates"))]
    except CmvcdsError:
        return None

    def ga(day: date) -> int:
        return (day - lmp).days

    onset = (findings.get("maternal_infection") or {}).get("onset_window") or []
    amnio = [s for s in doc.get("schedule", []) if s.get("event") == "amniocentesis"]
    stops = [s for s in doc.get("schedule", []) if s.get("event") == "stop-valacyclovir"]
    regimens = [r for r in doc.get("regimens", []) if _d(r.get("start"))]
    marks = [ga(assessed), *(lm.ga.days for lm in landmarks)]
    marks += [ga(d) for d in (_d(x) for x in onset) if d]
    marks += [ga(_d(s["earliest"]) or assessed) for s in amnio + stops]
    marks += [ga(_d(r.get("stop")) or assessed) for r in regimens]
    end_days = min(max(max(marks) + 14, 28 * 7), 44 * 7)
    end_days = int(math.ceil(end_days / 14) * 14)
    plot = WIDTH - LEFT - RIGHT
    rows = ["Onset window", "Treatment", "Amniocentesis", "Stop"]
    row_h = 34
    top = 52
    height = top + row_h * len(rows) + 46

    def x(days: float) -> float:
        return LEFT + plot * max(0.0, min(days, end_days)) / end_days

    def y(row: int) -> float:
        return top + row_h * row + row_h / 2

    out = [
        f'<svg class="chart timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="tl-title" data-chart="pregnancy-timeline" data-lmp="{lmp}">',
        f'<title id="tl-title">Pregnancy timeline on a gestational-age axis (today {escape(ga_now)})</title>',
    ]
    for i, name in enumerate(rows):
        out.append(f'<text class="row-label" x="8" y="{y(i) + 4:.1f}">{name}</text>')
        out.append(
            f'<line class="row-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(i):.1f}" y2="{y(i):.1f}"/>'
        )
    axis_y = top + row_h * len(rows) + 6
    out.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{axis_y}" y2="{axis_y}"/>')
    for week in range(0, end_days // 7 + 1, 2):
        tx = x(week * 7)
        out.append(
            f'<line class="tick" x1="{tx:.1f}" x2="{tx:.1f}" y1="{axis_y}" y2="{axis_y + 5}"/>'
        )
        out.append(
            f'<text class="tick-label" x="{tx:.1f}" y="{axis_y + 18}" text-anchor="middle">{week}</text>'
        )
    out.append(
        f'<text class="axis-label" x="{LEFT + plot / 2:.1f}" y="{axis_y + 36}" text-anchor="middle">'
        "gestational age (completed weeks)</text>"
    )
    for i, lm in enumerate(sorted(landmarks, key=lambda m: m.ga)):
        lx = x(lm.ga.days)
        ly = top - 8 - 12 * (i % 2)
        out.append(
            f'<g data-landmark="{escape(str(lm.ga))}"><line class="landmark" x1="{lx:.1f}" x2="{lx:.1f}" '
            f'y1="{ly + 2}" y2="{axis_y}"/><text class="landmark-label" x="{lx:.1f}" y="{ly}" text-anchor="middle">'
            f"{escape(str(lm.ga))}</text><title>{escape(str(lm.ga))}: {escape(lm.label)}</title></g>"
        )
    if len(onset) == 2 and _d(onset[0]) and _d(onset[1]):
        a, b = ga(_d(onset[0]) or assessed), ga(_d(onset[1]) or assessed)
        out.append(
            f'<g data-event="onset-window" data-start="{onset[0]}" data-end="{onset[1]}">'
            f'<rect class="band onset" x="{x(a):.1f}" y="{y(0) - 9:.1f}" width="{max(x(b) - x(a), 2):.1f}" height="18"/>'
            f"<title>Onset window {onset[0]} – {onset[1]} ({_ga_text(a)} – {_ga_text(b)})</title></g>"
        )
    for i, regimen in enumerate(regimens):
        start = _d(regimen["start"]) or assessed
        stop = _d(regimen.get("stop"))
        a = ga(start)
        b = ga(stop) if stop else end_days
        dose = (
            f"{regimen.get('dose_mg')} mg q{regimen.get('every_h')}h"
            if regimen.get("every_h")
            else ""
        )
        label = escape(f"{regimen.get('drug', '')} {dose}".strip())
        out.append(
            f'<g data-event="treatment" data-drug="{escape(str(regimen.get("drug", "")))}" data-start="{start}" '
            f'data-stop="{stop or ""}"><rect class="bar treatment c{i % 6}" x="{x(a):.1f}" y="{y(1) - 8:.1f}" '
            f'width="{max(x(b) - x(a), 2):.1f}" height="16"/>'
            f'<text class="bar-label" x="{x(a) + 4:.1f}" y="{y(1) + 4:.1f}">{label}</text>'
            f"<title>{label}: {start} ({_ga_text(a)}) – {stop or 'open'}{f' ({_ga_text(b)})' if stop else ''}</title></g>"
        )
    for item in amnio:
        day = _d(item["earliest"]) or assessed
        mx = x(ga(day))
        right = mx > WIDTH - RIGHT - 170
        out.append(
            f'<g data-event="amniocentesis" data-date="{day}"><path class="marker amnio" '
            f'd="M{mx:.1f},{y(2) - 8:.1f} l8,8 l-8,8 l-8,-8 z"/><text class="marker-label" '
            f'x="{mx - 11 if right else mx + 11:.1f}" y="{y(2) + 4:.1f}" text-anchor="{"end" if right else "start"}">'
            f"from {day} ({_ga_text(ga(day))})</text></g>"
        )
    stop_days = [(_d(s["earliest"]) or assessed) for s in stops] or [
        d for d in (_d(r.get("stop")) for r in regimens) if d is not None
    ]
    for day in stop_days:
        sx = x(ga(day))
        right = sx > WIDTH - RIGHT - 140
        out.append(
            f'<g data-event="stop" data-date="{day}"><rect class="marker stop" x="{sx - 6:.1f}" y="{y(3) - 6:.1f}" '
            f'width="12" height="12"/><text class="marker-label" x="{sx - 10 if right else sx + 10:.1f}" '
            f'y="{y(3) + 4:.1f}" text-anchor="{"end" if right else "start"}">{day} ({_ga_text(ga(day))})</text></g>'
        )
    tx = x(ga(assessed))
    out.append(
        f'<g data-event="today" data-date="{assessed}"><line class="today" x1="{tx:.1f}" x2="{tx:.1f}" '
        f'y1="{top - 4}" y2="{axis_y}"/><text class="today-label" x="{tx + 3:.1f}" y="{axis_y - 4}">'
        f"today {escape(ga_now)}</text></g>"
    )
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class _Point:
    day: date
    value: float | None  # None: not detected / not quantified (drawn on the floor, open)
    text: str


@dataclass(frozen=True)
class _Series:
    specimen: str
    unit: str
    points: tuple[_Point, ...]
    nadir: date | None


@dataclass(frozen=True)
class _Bar:
    drug: str
    start: date
    stop: date | None
    text: str


@dataclass(frozen=True)
class _Marker:
    series: str
    day: date
    code: str
    label: str


def viral_load_chart(doc: dict[str, Any], case: dict[str, Any] | None = None) -> str | None:
    """CMV DNA over time (log10): from the assessment's ``findings.viral_load_kinetics`` (the
    kinetics engine's chart data) when present, else from the case's results; None without a
    quantified result."""
    kinetics = (doc.get("findings") or {}).get("viral_load_kinetics")
    if isinstance(kinetics, dict) and kinetics.get("series"):
        series, bars, markers = _from_kinetics(kinetics)
    else:
        series, bars, markers = _from_case(case or {}, doc)
    if not any(p.value for s in series for p in s.points):
        return None
    return _draw(series, bars, markers, _d(doc.get("assessed_on")))


def _from_kinetics(kinetics: dict[str, Any]) -> tuple[list[_Series], list[_Bar], list[_Marker]]:
    series = []
    for s in kinetics["series"]:
        points = [
            _Point(_d(p["day"]) or date.min, float(p["value"]), f"{p['value']:g} {s['unit']}")
            for p in s["points"]
        ]
        points += [
            _Point(_d(day) or date.min, None, str(result).replace("_", " "))
            for day, result in s.get("not_quantified") or []
        ]
        nadir = _d((s.get("nadir") or {}).get("day"))
        series.append(
            _Series(s["specimen"], s["unit"], tuple(sorted(points, key=lambda p: p.day)), nadir)
        )
    bars = [
        _Bar(
            b["drug"],
            _d(b["start"]) or date.min,
            None if b.get("ongoing") else _d(b.get("stop")),
            _dose(b),
        )
        for b in kinetics.get("therapy") or []
    ]
    keys = {s["key"]: f"{s['specimen']}|{s['unit']}" for s in kinetics["series"]}
    markers = [
        _Marker(
            keys.get(m["series"], m["series"]),
            _d(m["day"]) or date.min,
            m["code"],
            m.get("label", m["code"]),
        )
        for m in kinetics.get("markers") or []
    ]
    return series, bars, markers


def _from_case(
    case: dict[str, Any], doc: dict[str, Any]
) -> tuple[list[_Series], list[_Bar], list[_Marker]]:
    grouped: dict[tuple[str, str], list[_Point]] = {}
    for o in case.get("observations") or []:
        day = _d(o.get("date"))
        if o.get("code") != "cmv_dna" or day is None:
            continue
        specimen = str(o.get("specimen") or "unspecified")
        if o.get("value") is not None:
            value = float(o["value"])
            unit = str(o.get("unit") or "")
            grouped.setdefault((specimen, unit), []).append(
                _Point(day, value if value > 0 else None, f"{value:g} {unit}")
            )
        elif o.get("result"):
            unit = next((u for (s, u) in grouped if s == specimen), "")
            grouped.setdefault((specimen, unit), []).append(
                _Point(day, None, str(o["result"]).replace("_", " "))
            )
    series = []
    for (specimen, unit), points in sorted(grouped.items()):
        quantified = [p for p in points if p.value]
        nadir = min(quantified, key=lambda p: p.value or 0.0).day if len(quantified) >= 2 else None
        series.append(_Series(specimen, unit, tuple(sorted(points, key=lambda p: p.day)), nadir))
    bars = [
        _Bar(str(t.get("drug")), _d(t["start"]) or date.min, _d(t.get("stop")), _dose(t))
        for t in case.get("therapy") or []
        if _d(t.get("start"))
    ]
    markers = []
    if series:  # alerts carry no date: shown at the last quantified result of the first series
        last = [p for p in series[0].points if p.value]
        for a in doc.get("alerts") or []:
            if (
                a.get("severity") in ("warning", "critical")
                and last
                and a.get("code") != "unverified-fact"
            ):
                key = f"{series[0].specimen}|{series[0].unit}"
                markers.append(
                    _Marker(key, last[-1].day, str(a.get("code")), str(a.get("message", "")))
                )
    return series, bars, markers[:3]


def _dose(course: dict[str, Any]) -> str:
    if course.get("dose_mg") and course.get("every_h"):
        return f"{course['dose_mg']} mg q{course['every_h']}h"
    return ""


def _draw(series: list[_Series], bars: list[_Bar], markers: list[_Marker], end: date | None) -> str:
    days = [p.day for s in series for p in s.points] + [b.start for b in bars]
    first = min(days)
    last = max([*days, *(b.stop for b in bars if b.stop), *([end] if end else [])])
    last = max(last, first + timedelta(days=7))
    values = [p.value for s in series for p in s.points if p.value]
    top_log = max(math.ceil(math.log10(max(values))), 2)
    bottom_log = min(1, math.floor(math.log10(min(values))))
    plot_w = WIDTH - LEFT - RIGHT
    plot_top, plot_h = 20, 200
    bars_top = plot_top + plot_h + 34
    drugs = sorted({b.drug for b in bars})
    height = bars_top + 22 * len(drugs) + 40

    def x(day: date) -> float:
        return LEFT + plot_w * (day - first).days / max((last - first).days, 1)

    def y(value: float | None) -> float:
        lv = math.log10(value) if value else bottom_log
        return plot_top + plot_h * (top_log - lv) / (top_log - bottom_log)

    out = [
        f'<svg class="chart viral-load" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        'role="img" aria-labelledby="vl-title" data-chart="viral-load">',
        '<title id="vl-title">CMV DNA (log10 scale) with therapy</title>',
    ]
    for exponent in range(bottom_log, top_log + 1):
        gy = y(10.0**exponent)
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}"/>'
        )
        out.append(
            f'<text class="tick-label" x="{LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end">10^{exponent}</text>'
        )
    middle = plot_top + plot_h / 2
    out.append(
        f'<text class="axis-label" x="14" y="{middle:.1f}" transform="rotate(-90 14 {middle:.1f})" '
        'text-anchor="middle">CMV DNA (log10)</text>'
    )
    axis_y = plot_top + plot_h
    for tick in _date_ticks(first, last):
        tx = x(tick)
        out.append(
            f'<line class="tick" x1="{tx:.1f}" x2="{tx:.1f}" y1="{axis_y}" y2="{axis_y + 5}"/>'
        )
        out.append(
            f'<text class="tick-label" x="{tx:.1f}" y="{axis_y + 18}" text-anchor="middle">{tick.isoformat()}</text>'
        )
    for i, s in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        key = f"{s.specimen}|{s.unit}"
        path = " ".join(
            f"{'M' if j == 0 else 'L'}{x(p.day):.1f},{y(p.value):.1f}"
            for j, p in enumerate(s.points)
        )
        out.append(
            f'<g data-series="{escape(key)}"><path class="series" stroke="{colour}" d="{path}"/>'
        )
        for p in s.points:
            kind = "point" if p.value else "point below-limit"
            out.append(
                f'<circle class="{kind}" cx="{x(p.day):.1f}" cy="{y(p.value):.1f}" r="4" stroke="{colour}" '
                f'fill="{colour if p.value else "#fff"}" data-date="{p.day}"><title>{p.day}: {escape(p.text)}</title></circle>'
            )
        nadir = next((p for p in s.points if p.day == s.nadir and p.value), None)
        if nadir is not None:
            out.append(
                f'<g data-marker="nadir" data-date="{nadir.day}"><text class="marker-label" x="{x(nadir.day):.1f}" '
                f'y="{y(nadir.value) + 18:.1f}" text-anchor="middle">nadir</text></g>'
            )
        name = escape(f"{s.specimen.replace('_', ' ')} {s.unit}".strip())
        out.append(
            f'<text class="legend" x="{LEFT + 8}" y="{plot_top + 14 + 14 * i}" fill="{colour}">● {name}</text></g>'
        )
    for m in markers:
        owner = next((item for item in series if f"{item.specimen}|{item.unit}" == m.series), None)
        point = next(
            (p for p in (owner.points if owner else ()) if p.day == m.day and p.value), None
        )
        my = y(point.value if point else None)
        out.append(
            f'<g data-marker="alert" data-code="{escape(m.code)}" data-date="{m.day}"><path class="marker alert" '
            f'd="M{x(m.day):.1f},{my - 16:.1f} l6,10 l-12,0 z"/><title>{escape(m.code)}: {escape(m.label)}</title></g>'
        )
    for row, drug in enumerate(drugs):
        by = bars_top + 22 * row
        out.append(f'<text class="row-label" x="8" y="{by + 12}">{escape(drug)}</text>')
        for b in (b for b in bars if b.drug == drug):
            stop = b.stop or last
            out.append(
                f'<g data-therapy="{escape(drug)}" data-start="{b.start}"><rect class="bar therapy c{row % 6}" '
                f'x="{x(b.start):.1f}" y="{by}" width="{max(x(stop) - x(b.start), 2):.1f}" height="14"/>'
                f"<title>{escape(drug)} {escape(b.text)} {b.start} – {b.stop or 'ongoing'}</title></g>"
            )
    out.append("</svg>")
    return "".join(out)


def _date_ticks(first: date, last: date) -> list[date]:
    span = max((last - first).days, 1)
    step = max(7, math.ceil(span / 6 / 7) * 7)
    return [first + timedelta(days=d) for d in range(0, span + 1, step)]
