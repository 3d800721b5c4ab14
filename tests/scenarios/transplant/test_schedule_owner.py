"""One owner per monitoring calendar: the monitoring pathway plans the checks of a course already in
``therapy``; a pathway plans them only for a course not yet started (as the congenital pathway).

Baseline: the kidney D+/R− recipient of test_breakthrough.py on valganciclovir prophylaxis since
2026-03-06, assessed 2026-05-20. Prophylaxis checks (blood count, creatinine) every 14 days from
the course start: 2026-03-06 + 70 = 05-15, + 84 = 05-29, + 98 = 06-12; an open course is planned
28 days ahead (to 2026-06-17). Treatment-dose checks are weekly from their start.
"""

from __future__ import annotations

from typing import Any

from cmvcds.knowledge import Knowledge
from transplant.helpers import events, run, with_
from transplant.test_breakthrough import load, on_prophylaxis
from transplant.test_hsct import HSCT, LETERMOVIR
from transplant.test_sot import KIDNEY


def reasons_on(document: dict[str, Any], event: str, day: str) -> list[str]:
    return [
        s["reason"] for s in document["schedule"] if s["event"] == event and s["earliest"] == day
    ]


def test_prophylaxis_in_therapy_is_planned_once_from_its_start(knowledge: Knowledge) -> None:
    doc = run(knowledge, on_prophylaxis())
    assert events(doc, "blood-count") == ["2026-05-29", "2026-06-12"]
    assert events(doc, "renal-function") == ["2026-05-29", "2026-06-12"]
    # not also from the assessment date (05-20, 06-03 …) by the transplant pathway
    assert reasons_on(doc, "blood-count", "2026-05-20") == []


def test_prophylaxis_not_yet_started_is_planned_by_the_pathway(knowledge: Knowledge) -> None:
    # day 5, nothing in therapy: the pathway's calendar from today (2026-03-06) to day 200
    doc = run(knowledge, KIDNEY)
    days = events(doc, "blood-count")
    assert days[:3] == ["2026-03-06", "2026-03-20", "2026-04-03"]
    # 03-06 + 13 × 14 = 182 days = 09-04; the next (09-18) is after day 200 (09-17)
    assert days[-1] == "2026-09-04"


def test_treatment_dose_for_a_breakthrough_is_a_new_course_with_its_own_calendar(
    knowledge: Knowledge,
) -> None:
    doc = run(knowledge, on_prophylaxis(load("2026-05-19", 2500)))
    # pre-emptive valganciclovir from 2026-05-20: weekly viral load, blood count, creatinine
    assert events(doc, "viral-load")[:3] == ["2026-05-20", "2026-05-27", "2026-06-03"]
    assert reasons_on(doc, "blood-count", "2026-05-27") == [
        "valganciclovir: blood count at least weekly on (val)ganciclovir"
    ]


def test_a_recorded_preemptive_course_is_planned_by_monitoring_only(knowledge: Knowledge) -> None:
    # the same pre-emptive course, now in therapy since 2026-05-20 and assessed a week later
    raw = on_prophylaxis(load("2026-05-19", 2500))
    raw["assessed_on"] = "2026-05-27"
    raw["therapy"][0]["stop"] = "2026-05-19"
    raw["therapy"].append(
        {
            "drug": "valganciclovir",
            "dose_mg": 900,
            "every_h": 12,
            "route": "oral",
            "start": "2026-05-20",
            "indication": "preemptive",
        }
    )
    doc = run(knowledge, raw)
    # monitoring: weekly from 05-20 through 05-27 + 28 = 06-24
    assert events(doc, "viral-load") == [
        "2026-05-27",
        "2026-06-03",
        "2026-06-10",
        "2026-06-17",
        "2026-06-24",
    ]
    assert len(reasons_on(doc, "viral-load", "2026-05-27")) == 1


def test_hsct_letermovir_weekly_pcr_is_one_calendar_from_the_transplant(
    knowledge: Knowledge,
) -> None:
    # letermovir in therapy since 2026-05-04 (day 3), assessed 2026-05-20: the weekly PCR of T12 is
    # the surveillance from the transplant day (05-01 + 7k: 05-22, 05-29 …), not a second series
    # from the course start (05-25, 06-01 …)
    raw = with_(
        HSCT,
        assessed_on="2026-05-20",
        therapy=[{**LETERMOVIR[0], "start": "2026-05-04"}],
    )
    days = events(run(knowledge, raw), "viral-load")
    assert days[:3] == ["2026-05-22", "2026-05-29", "2026-06-05"]
    assert "2026-05-25" not in days
    assert days[-1] == "2026-08-07"  # 05-01 + 98 days; day 100 is 08-09
