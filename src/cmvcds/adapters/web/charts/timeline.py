"""The pregnancy timeline on a gestational-age axis, from the dating to the delivery.

Rows: the maternal-infection onset window; the courses (given, from the case's ``therapy``, and
planned, from the assessment's ``regimens``: a course without a stop date that lasts until
delivery is drawn to the EDD); the amniocentesis (the earliest valid date planned, and each one
done with its result, from the case's amniotic-fluid results); the stop dates. Landmarks: the
protocol's key gestational ages and the EDD.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import Any

from cmvcds.adapters.web.charts.common import WIDE, Frame, as_date, ga_text
from cmvcds.adapters.web.i18n import N_, gettext
from cmvcds.adapters.web.texts import clinical
from cmvcds.domain.gestational_age import GestationalAge
from cmvcds.errors import CmvcdsError

__all__ = ["Landmark", "pregnancy_timeline"]

ROWS = (N_("Onset window"), N_("Treatment"), N_("Amniocentesis"), N_("Stop"))
TERM = GestationalAge(280)  # 40+0, the EDD
DELIVERY = ' data-until="delivery"'


@dataclass(frozen=True)
class Landmark:
    """A labelled gestational age drawn as a dashed line (e.g. a protocol limit)."""

    ga: GestationalAge
    label: str


@dataclass(frozen=True)
class _Course:
    drug: str
    start: date
    stop: date | None
    dose: str
    given: bool  # from the case (already given), else planned by the assessment
    to_delivery: bool  # open, until delivery: drawn to the EDD


@dataclass(frozen=True)
class _Amnio:
    day: date
    result: str


def _key_dates(key_dates: Any) -> list[Landmark]:
    """The pathway's ``findings.key_dates`` (``{"20+1": "2026-05-10", …}``) as landmarks."""
    if not isinstance(key_dates, dict):
        return []
    return [Landmark(GestationalAge.parse(ga), str(day)) for ga, day in key_dates.items()]


def _dose(course: dict[str, Any]) -> str:
    if course.get("dose_mg") and course.get("every_h"):
        # in the page's language (probe13 N1: "valacyclovir 2000 mg q6h" on an Italian page)
        return clinical(f"{course['dose_mg']} mg every {course['every_h']} h")
    return ""


def _courses(doc: dict[str, Any], case: dict[str, Any] | None, on: date) -> list[_Course]:
    """The courses given (the case) then planned (the assessment). A course still running on
    ``on`` is given up to ``on``; the regimen that continues it (same drug and start) is planned
    from ``on`` to its stop; a regimen that repeats a finished course is not drawn twice."""
    given, running = [], set()
    for t in (case or {}).get("therapy") or []:
        start, stop = as_date(t.get("start")), as_date(t.get("stop"))
        if start is None:
            continue
        drug = str(t.get("drug", ""))
        if stop is None and start <= on:
            running.add((drug, start))
            stop = on
        given.append(_Course(drug, start, stop, _dose(t), True, False))
    finished = {(c.drug, c.start) for c in given} - running
    planned = []
    for r in doc.get("regimens", []):
        start = as_date(r.get("start"))
        drug = str(r.get("drug", ""))
        if start is None or (drug, start) in finished:
            continue
        stop = as_date(r.get("stop"))
        # in-utero treatment runs until delivery: its stop is the EDD, or none once it has
        # passed (ADR 0031); either way it is drawn and labelled as running to delivery
        open_to_delivery = "until delivery" in str(r.get("stop_rule", ""))
        if (drug, start) in running:
            start = on
        planned.append(_Course(drug, start, stop, _dose(r), False, open_to_delivery))
    return given + planned


def _amniocenteses(case: dict[str, Any] | None) -> list[_Amnio]:
    """The amniotic-fluid CMV PCRs the case reports, with their result as written."""
    done = []
    for o in (case or {}).get("observations") or []:
        day = as_date(o.get("date"))
        if o.get("code") != "cmv_dna" or o.get("specimen") != "amniotic_fluid" or day is None:
            continue
        if o.get("value") is not None:
            result = f"{o['value']:g} {o.get('unit', '')}".strip()
        else:
            result = clinical(str(o.get("result", "")).replace("_", " "))
        done.append(_Amnio(day, result))
    return done


def pregnancy_timeline(
    doc: dict[str, Any],
    landmarks: Sequence[Landmark] = (),
    case: dict[str, Any] | None = None,
    frame: Frame = WIDE,
) -> str | None:
    """The pregnancy timeline of an assessment (and its case, for the courses given and the
    amniocenteses done), or None when the pregnancy is not dated."""
    findings = doc.get("findings") or {}
    ga_now = findings.get("gestational_age")
    assessed = as_date(doc.get("assessed_on"))
    if not isinstance(ga_now, str) or assessed is None:
        return None
    try:
        lmp = assessed - timedelta(days=GestationalAge.parse(ga_now).days)
        landmarks = [*landmarks, *_key_dates(findings.get("key_dates"))]
    except CmvcdsError:
        return None
    edd = as_date((findings.get("dating") or {}).get("edd")) or lmp + timedelta(TERM.days)
    landmarks.append(Landmark(TERM, gettext("EDD") + f" {edd}"))

    def ga(day: date) -> int:
        return (day - lmp).days

    onset = (findings.get("maternal_infection") or {}).get("onset_window") or []
    amnio = [s for s in doc.get("schedule", []) if s.get("event") == "amniocentesis"]
    stops = [s for s in doc.get("schedule", []) if s.get("event") == "stop-valacyclovir"]
    courses = _courses(doc, case, assessed)
    done = _amniocenteses(case)
    marks = [ga(assessed), *(lm.ga.days for lm in landmarks), *(ga(a.day) for a in done)]
    marks += [ga(d) for d in (as_date(x) for x in onset) if d]
    marks += [ga(as_date(s["earliest"]) or assessed) for s in amnio + stops]
    marks += [ga(c.stop or c.start) for c in courses]
    end_days = min(max(max(marks) + 14, 28 * 7), 44 * 7)
    end_days = int(math.ceil(end_days / 14) * 14)
    narrow = frame.narrow
    row_h = 46 if narrow else 34
    top = 52
    height = top + row_h * len(ROWS) + 46
    right_edge = frame.width - frame.right

    def x(days: float) -> float:
        return frame.left + frame.plot * max(0.0, min(days, end_days)) / end_days

    def y(row: int) -> float:  # the centre of a row's marks (below its label when narrow)
        return top + row_h * row + (30 if narrow else row_h / 2)

    title_id = f"tl-title{frame.suffix}"
    out = [
        f'<svg class="chart timeline" data-frame="{frame.name}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {frame.width} {height}" role="img" aria-labelledby="{title_id}" '
        f'data-chart="pregnancy-timeline{"-narrow" if narrow else ""}" data-lmp="{lmp}" '
        f'data-edd="{edd}">',
        f'<title id="{title_id}">'
        + escape(
            gettext("Pregnancy timeline on a gestational-age axis (today %(ga)s)") % {"ga": ga_now}
        )
        + "</title>",
    ]
    for i, name in enumerate(ROWS):
        label_y = top + row_h * i + 12 if narrow else y(i) + 4
        out.append(
            f'<text class="row-label" x="{frame.left if narrow else 8}" y="{label_y:.1f}">'
            f"{escape(gettext(name))}</text>"
        )
        out.append(
            f'<line class="row-line" x1="{frame.left}" x2="{right_edge}" y1="{y(i):.1f}" y2="{y(i):.1f}"/>'
        )
    axis_y = top + row_h * len(ROWS) + 6
    out.append(
        f'<line class="axis" x1="{frame.left}" x2="{right_edge}" y1="{axis_y}" y2="{axis_y}"/>'
    )
    for week in range(0, end_days // 7 + 1, 4 if narrow else 2):
        tx = x(week * 7)
        out.append(
            f'<line class="tick" x1="{tx:.1f}" x2="{tx:.1f}" y1="{axis_y}" y2="{axis_y + 5}"/>'
            f'<text class="tick-label" x="{tx:.1f}" y="{axis_y + 18}" text-anchor="middle">{week}</text>'
        )
    axis_name = escape(gettext("gestational age (completed weeks)"))
    out.append(
        f'<text class="axis-label" x="{frame.left + frame.plot / 2:.1f}" y="{axis_y + 36}" '
        f'text-anchor="middle">{axis_name}</text>'
    )
    for i, lm in enumerate(sorted(landmarks, key=lambda m: m.ga)):
        lx = x(lm.ga.days)
        ly = top - 8 - 12 * (i % 2)
        out.append(
            f'<g data-landmark="{escape(str(lm.ga))}"><line class="landmark" x1="{lx:.1f}" x2="{lx:.1f}" '
            f'y1="{ly + 2}" y2="{axis_y}"/><text class="landmark-label" x="{lx:.1f}" y="{ly}" '
            f'text-anchor="middle">{escape(str(lm.ga))}</text>'
            f"<title>{escape(str(lm.ga))}: {escape(lm.label)}</title></g>"
        )
    first, last = (as_date(v) for v in onset) if len(onset) == 2 else (None, None)
    if first and last:
        a, b = ga(first), ga(last)
        window = escape(gettext("Onset window"))
        out.append(
            f'<g data-event="onset-window" data-start="{first}" data-end="{last}">'
            f'<rect class="band onset" x="{x(a):.1f}" y="{y(0) - 9:.1f}" width="{max(x(b) - x(a), 2):.1f}" height="18"/>'
            f"<title>{window} {first} – {last} ({ga_text(a)} – {ga_text(b)})</title></g>"
        )
    drugs = sorted({c.drug for c in courses})  # one colour per drug, given or planned
    for course in courses:
        out.append(_course_bar(course, drugs.index(course.drug), ga, x, y(1), end_days, edd, frame))
    for item in amnio:
        day = as_date(item["earliest"]) or assessed
        text = (
            day.isoformat()
            if narrow
            else gettext("from %(day)s (%(ga)s)")
            % {
                "day": day,
                "ga": ga_text(ga(day)),
            }
        )
        mx = x(ga(day))
        out.append(
            f'<g data-event="amniocentesis" data-date="{day}" data-state="planned">'
            f'<path class="marker amnio" d="M{mx:.1f},{y(2) - 8:.1f} l8,8 l-8,8 l-8,-8 z"/>'
            + _text_beside(mx, y(2), text, frame)
            + "</g>"
        )
    done_name = escape(gettext("Amniocentesis done"))
    for item in done:
        mx = x(ga(item.day))
        text = f"{item.day}: {item.result}"
        out.append(
            f'<g data-event="amniocentesis-done" data-date="{item.day}" data-result="{escape(item.result)}">'
            f'<circle class="marker amnio done" cx="{mx:.1f}" cy="{y(2):.1f}" r="7"/>'
            + _text_beside(mx, y(2), text, frame)
            + f"<title>{done_name} {escape(text)} ({ga_text(ga(item.day))})</title></g>"
        )
    stop_days = [(as_date(s["earliest"]) or assessed) for s in stops] or [
        c.stop for c in courses if c.stop is not None and not c.given
    ]
    for day in stop_days:
        sx = x(ga(day))
        out.append(
            f'<g data-event="stop" data-date="{day}"><rect class="marker stop" x="{sx - 6:.1f}" '
            f'y="{y(3) - 6:.1f}" width="12" height="12"/>'
            + _text_beside(sx, y(3), f"{day} ({ga_text(ga(day))})", frame)
            + "</g>"
        )
    tx = x(ga(assessed))
    today = escape(gettext("today"))
    out.append(
        f'<g data-event="today" data-date="{assessed}"><line class="today" x1="{tx:.1f}" x2="{tx:.1f}" '
        f'y1="{top - 4}" y2="{axis_y}"/><text class="today-label" x="{tx + 3:.1f}" y="{axis_y - 4}">'
        f"{today} {escape(ga_now)}</text></g>"
    )
    out.append("</svg>")
    return "".join(out)


def _text_beside(mx: float, my: float, text: str, frame: Frame) -> str:
    """A marker's label to its right, or to its left when it would run off the chart."""
    room = 7 * len(text)
    right = mx + 11 + room > frame.width - frame.right
    return (
        f'<text class="marker-label" x="{mx - 11 if right else mx + 11:.1f}" y="{my + 4:.1f}" '
        f'text-anchor="{"end" if right else "start"}">{escape(text)}</text>'
    )


def _course_bar(
    course: _Course,
    index: int,
    ga: Callable[[date], int],
    x: Callable[[float], float],
    centre: float,
    end_days: int,
    edd: date,
    frame: Frame,
) -> str:
    """One course on the treatment row: solid when given, hatched-light when planned."""
    a = ga(course.start)
    b = ga(course.stop) if course.stop else ga(edd) if course.to_delivery else end_days
    drug = clinical(course.drug)
    label = escape(f"{drug} {course.dose}".strip() if not frame.narrow else drug)
    state = "given" if course.given else "planned"
    until = (
        gettext("delivery (EDD %(day)s)") % {"day": edd}
        if course.to_delivery
        else f"{course.stop}"
        if course.stop
        else gettext("open")
    )
    width = max(x(b) - x(a), 2)
    text = (
        f'<text class="bar-label" x="{x(a) + 4:.1f}" y="{centre + 4:.1f}">{label}</text>'
        if width > 7 * len(label)
        else ""
    )
    return (
        f'<g data-event="treatment" data-drug="{escape(course.drug)}" data-start="{course.start}" '
        f'data-stop="{course.stop or ""}" data-state="{state}"'
        f"{DELIVERY if course.to_delivery else ''}>"
        f'<rect class="bar treatment {state} c{index % 6}" x="{x(a):.1f}" y="{centre - 8:.1f}" '
        f'width="{width:.1f}" height="16"/>{text}'
        f"<title>{label} ({escape(gettext(state))}): {course.start} ({ga_text(a)}) – {escape(until)}</title></g>"
    )
