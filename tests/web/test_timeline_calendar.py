"""Timelines and calendars that cover the course (issue 15 item 7).

- The pregnancy timeline of ``examples/pregnancy-fetal-treatment.yaml`` (prevention from 10+2,
  amniocentesis positive at 20+3, in-utero treatment until delivery): the prevention course given,
  the in-utero treatment planned to the EDD, the amniocentesis done with its result, the EDD.
- The infant's monitoring calendar: the engine's schedule grouped by month and day, and the same
  dates in an iCalendar file read back with ``icalendar``.
- Each chart in a narrow frame whose labels keep their size at 390 px.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from icalendar import Calendar

from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.web.calendar import monitoring_calendar
from cmvcds.adapters.web.charts import NARROW, WIDE, pregnancy_timeline, viral_load_chart
from cmvcds.knowledge import Knowledge

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _assessed(knowledge: Knowledge, name: str) -> tuple[dict, dict]:  # type: ignore[type-arg]
    raw = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    return Clinic(knowledge, today=lambda: date(2026, 11, 21)).assess(raw), raw


def test_the_timeline_runs_from_the_prevention_course_to_delivery(knowledge: Knowledge) -> None:
    doc, raw = _assessed(knowledge, "pregnancy-fetal-treatment.yaml")
    svg = pregnancy_timeline(doc, case=raw)
    assert svg is not None
    assert 'data-edd="2026-09-26"' in svg
    assert 'data-landmark="40+0"' in svg  # the delivery, dashed like the protocol dates
    given = re.search(r'<g data-event="treatment"[^>]*data-state="given"[^>]*>', svg)
    assert given and 'data-start="2026-03-02" data-stop="2026-05-19"' in given.group(0)
    planned = re.search(r'<g data-event="treatment"[^>]*data-state="planned"[^>]*>', svg)
    assert planned and 'data-start="2026-05-20"' in planned.group(0)
    assert 'data-until="delivery"' in planned.group(0)
    # the planned bar ends at the EDD (40+0), not at the edge of the axis
    lmp = date(2025, 12, 20)
    bar = re.search(r'data-state="planned"[^>]*><rect [^>]*x="([\d.]+)"[^>]*width="([\d.]+)"', svg)
    line = re.search(r'data-landmark="40\+0"><line class="landmark" x1="([\d.]+)"', svg)
    assert bar and line
    assert abs(float(bar.group(1)) + float(bar.group(2)) - float(line.group(1))) < 0.2
    assert (date(2026, 9, 26) - lmp).days == 280
    done = re.search(r'<g data-event="amniocentesis-done"[^>]*>', svg)
    assert done and 'data-date="2026-05-12"' in done.group(0)
    assert 'data-result="45000 copies/mL"' in done.group(0)
    # the engine's schedule stops the prevention course the day before the treatment starts
    assert 'data-event="stop" data-date="2026-05-19"' in svg


def test_without_a_case_the_timeline_draws_the_plan_only(knowledge: Knowledge) -> None:
    doc, _ = _assessed(knowledge, "pregnancy.yaml")
    svg = pregnancy_timeline(doc)
    assert svg is not None
    assert 'data-state="given"' not in svg
    assert 'data-event="amniocentesis" data-date="2026-05-10" data-state="planned"' in svg
    assert 'data-event="stop" data-date="2026-06-20"' in svg


def test_a_course_running_today_is_given_to_today_and_planned_after(knowledge: Knowledge) -> None:
    """examples/pregnancy.yaml with the prevention course started on 2026-03-02 and running on
    2026-04-01: given to that day, planned from it to 26+0 (2026-06-20)."""
    doc, raw = _assessed(knowledge, "pregnancy.yaml")
    raw["assessed_on"] = "2026-04-01"
    raw["therapy"] = [
        {"drug": "valacyclovir", "dose_mg": 2000, "every_h": 6, "route": "oral",
         "start": "2026-03-02"}
    ]  # fmt: skip
    doc = Clinic(knowledge, today=lambda: date(2026, 11, 21)).assess(raw)
    svg = pregnancy_timeline(doc, case=raw)
    assert svg is not None
    bars = re.findall(r'<g data-event="treatment"[^>]*>', svg)
    assert len(bars) == 2, bars
    assert 'data-start="2026-03-02" data-stop="2026-04-01" data-state="given"' in bars[0]
    assert 'data-start="2026-04-01" data-stop="2026-06-20" data-state="planned"' in bars[1]


def _font_px_at(width_px: float, svg: str) -> float:
    """The size a 11-unit label is drawn at when the SVG is ``width_px`` wide on screen."""
    viewbox = re.search(r'viewBox="0 0 ([\d.]+) ', svg)
    assert viewbox
    return 11 * width_px / float(viewbox.group(1))


def test_the_narrow_frames_keep_labels_legible_on_a_phone(knowledge: Knowledge) -> None:
    doc, raw = _assessed(knowledge, "pregnancy-fetal-treatment.yaml")
    content = 390 - 2 * 16  # the page's side padding at 390 px
    for draw in (
        lambda f: pregnancy_timeline(doc, case=raw, frame=f),
        lambda f: viral_load_chart(doc, raw, f),
    ):
        wide, narrow = draw(WIDE), draw(NARROW)
        assert wide and narrow
        assert _font_px_at(content, wide) < 6  # why the narrow frame exists
        assert _font_px_at(content, narrow) >= 10
        assert 'data-frame="narrow"' in narrow and 'data-frame="wide"' in wide
        ids = re.findall(r' id="([^"]+)"', wide + narrow)
        assert len(ids) == len(set(ids)), "both frames are on one page: ids must differ"


def test_the_infant_calendar_groups_the_engines_dates(knowledge: Knowledge) -> None:
    doc, _ = _assessed(knowledge, "congenital.yaml")
    months = monitoring_calendar(doc)
    listed = [(d.day.isoformat(), e["event"]) for m in months for d in m.days for e in d.events]
    assert sorted(listed) == sorted((s["earliest"], s["event"]) for s in doc["schedule"])
    assert [m.first for m in months] == sorted({m.first for m in months})
    first = months[0]
    assert first.first == date(2026, 3, 1) and first.days[0].day == date(2026, 3, 17)


def test_the_calendar_page_and_its_ics(client: TestClient) -> None:
    with (EXAMPLES / "congenital.yaml").open("rb") as handle:
        location = client.post(
            "/cases/upload", files={"file": ("c.yaml", handle)}, follow_redirects=False
        ).headers["location"]
    page = client.get(location).text
    assert '<section class="calendar" id="calendar"' in page
    assert '<h3 data-month="2026-03">March 2026</h3>' in page
    assert '<li data-day="2026-09-10"' in page
    doc = client.get(location + "/assessment.json").json()
    response = client.get(location + "/calendar.ics")
    assert response.headers["content-type"].startswith("text/calendar")
    assert "attachment" in response.headers["content-disposition"]
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert len(events) == len(doc["schedule"])
    for event, item in zip(events, doc["schedule"], strict=True):
        assert event.decoded("dtstart") == date.fromisoformat(item["earliest"])
        assert item["event"].replace("-", " ") in str(event.get("summary"))
    uids = [str(e.get("uid")) for e in events]
    assert len(set(uids)) == len(uids)
    assert client.get(location + "/calendar.ics").content == response.content  # stable UIDs
    italian = client.get(location, headers={"Accept-Language": "it"}).text
    assert '<h3 data-month="2026-03">marzo 2026</h3>' in italian
    assert "Calendario dei controlli" in italian


def test_the_italian_timeline_names_the_course_in_italian(knowledge: Knowledge) -> None:
    """probe13 N1: "valacyclovir 2000 mg q6h" on an Italian page: the course label is the page's
    language (the drug's Italian name, "ogni 6 h"); English keeps "every 6 h"."""
    from cmvcds.adapters.web import i18n

    doc, raw = _assessed(knowledge, "pregnancy-fetal-treatment.yaml")
    assert "valacyclovir 2000 mg every 6 h" in (pregnancy_timeline(doc, case=raw) or "")
    token = i18n.set_language("it")
    try:
        svg = pregnancy_timeline(doc, case=raw) or ""
    finally:
        i18n.reset_language(token)
    assert "valaciclovir 2000 mg ogni 6 h" in svg
    assert "q6h" not in svg and "valacyclovir" not in svg.replace('data-drug="valacyclovir"', "")
