"""CMV DNA over time on a log10 axis: one series per specimen and unit (IU/mL and copies/mL are
never merged), the therapy bars underneath, the nadir and the alert markers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import Any

from cmvcds.adapters.web.charts.common import COLOURS, WIDE, Frame, as_date
from cmvcds.adapters.web.i18n import gettext

__all__ = ["viral_load_chart"]

_d = as_date


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


def viral_load_chart(
    doc: dict[str, Any], case: dict[str, Any] | None = None, frame: Frame = WIDE
) -> str | None:
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
    return _draw(series, bars, markers, _d(doc.get("assessed_on")), frame)


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


def _draw(
    series: list[_Series],
    bars: list[_Bar],
    markers: list[_Marker],
    end: date | None,
    frame: Frame,
) -> str:
    days = [p.day for s in series for p in s.points] + [b.start for b in bars]
    first = min(days)
    last = max([*days, *(b.stop for b in bars if b.stop), *([end] if end else [])])
    last = max(last, first + timedelta(days=7))
    values = [p.value for s in series for p in s.points if p.value]
    top_log = max(math.ceil(math.log10(max(values))), 2)
    bottom_log = min(1, math.floor(math.log10(min(values))))
    left = 56 if frame.narrow else frame.left  # room for the axis title and 10^n tick labels
    width, right = frame.width, frame.right
    plot_w = width - left - right
    plot_top, plot_h = 20, 200
    bars_top = plot_top + plot_h + 34
    drugs = sorted({b.drug for b in bars})
    bar_row = 34 if frame.narrow else 22
    height = bars_top + bar_row * len(drugs) + 40

    def x(day: date) -> float:
        return left + plot_w * (day - first).days / max((last - first).days, 1)

    def y(value: float | None) -> float:
        lv = math.log10(value) if value else bottom_log
        return plot_top + plot_h * (top_log - lv) / (top_log - bottom_log)

    title = escape(gettext("CMV DNA (log10 scale) with therapy"))
    out = [
        f'<svg class="chart viral-load" data-frame="{frame.name}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="vl-title{frame.suffix}" '
        f'data-chart="viral-load{"-narrow" if frame.narrow else ""}">',
        f'<title id="vl-title{frame.suffix}">{title}</title>',
    ]
    for exponent in range(bottom_log, top_log + 1):
        gy = y(10.0**exponent)
        out.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}"/>'
        )
        out.append(
            f'<text class="tick-label" x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end">10^{exponent}</text>'
        )
    middle = plot_top + plot_h / 2
    out.append(
        f'<text class="axis-label" x="14" y="{middle:.1f}" transform="rotate(-90 14 {middle:.1f})" '
        'text-anchor="middle">CMV DNA (log10)</text>'
    )
    axis_y = plot_top + plot_h
    for tick in _date_ticks(first, last, 3 if frame.narrow else 6):
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
            f'<text class="legend" x="{left + 8}" y="{plot_top + 14 + 14 * i}" fill="{colour}">● {name}</text></g>'
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
        by = bars_top + bar_row * row + (14 if frame.narrow else 0)
        label_x, label_y = (left, by - 4) if frame.narrow else (8, by + 12)
        out.append(f'<text class="row-label" x="{label_x}" y="{label_y}">{escape(drug)}</text>')
        for b in (b for b in bars if b.drug == drug):
            stop = b.stop or last
            out.append(
                f'<g data-therapy="{escape(drug)}" data-start="{b.start}"><rect class="bar therapy c{row % 6}" '
                f'x="{x(b.start):.1f}" y="{by}" width="{max(x(stop) - x(b.start), 2):.1f}" height="14"/>'
                f"<title>{escape(drug)} {escape(b.text)} {b.start} – {b.stop or 'ongoing'}</title></g>"
            )
    out.append("</svg>")
    return "".join(out)


def _date_ticks(first: date, last: date, count: int) -> list[date]:
    span = max((last - first).days, 1)
    step = max(7, math.ceil(span / count / 7) * 7)
    return [first + timedelta(days=d) for d in range(0, span + 1, step)]
