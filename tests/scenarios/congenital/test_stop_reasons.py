"""Why a congenital course stopped (issue 14 item 4): a course held for toxicity is not a finished one.

Baseline (test_congenital.BASE): a boy born 2026-03-01 at 38+2, 3.2 kg, on valganciclovir
51.2 mg (16 mg/kg) q12h from 2026-03-10; 6 calendar months → planned end 2026-09-10.
Change: the course stopped on 2026-04-02 with ANC 400/mm³ on 2026-04-01 (below the hold level 500).

Sources: the hold/restart levels are the pack's (hold < 500, restart > 750: CASG convention, recalled,
unverified); the restart dose differs between sources read on 2026-12-07 — full dose (pack), half
dose until ANC > 1×10⁹/L (BC Women's Hospital neonatal ganciclovir), half dose (LHSC NICU manual) —
so every wording is shown under ``sources-differ`` and none is picked.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from cmvcds.assess import assess
from cmvcds.domain.case import Case
from cmvcds.domain.vocabulary import Outcome
from cmvcds.errors import CaseFormatError
from cmvcds.knowledge import Knowledge

from .test_congenital import BASE

COURSE = {
    "drug": "valganciclovir",
    "dose_mg": 51.2,
    "every_h": 12,
    "route": "oral",
    "start": "2026-03-10",
}


def case(
    assessed_on: str, *therapy: dict[str, Any], anc: tuple[tuple[str, int], ...] = ()
) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    raw["assessed_on"] = assessed_on
    raw["therapy"] = [dict(t) for t in therapy]
    raw["observations"] += [
        {"date": day, "code": "anc", "value": value, "unit": "cells/uL"} for day, value in anc
    ]
    return raw


HELD = {**COURSE, "stop": "2026-04-02", "stop_reason": "held_toxicity"}


@pytest.fixture
def run(
    make_case: Callable[[dict[str, Any]], Case], knowledge: Knowledge
) -> Callable[..., dict[str, Any]]:
    def go(raw: dict[str, Any]) -> dict[str, Any]:
        return assess(make_case(raw), knowledge).to_dict()

    return go


def congenital(doc: dict[str, Any]) -> dict[str, Any]:
    (d,) = [d for d in doc["decisions"] if d["id"] == "valganciclovir-congenital"]
    return d


def alert(doc: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [a for a in doc["alerts"] if a["code"] == code]


def test_held_for_neutropenia_is_not_completed_and_is_rechecked(
    run: Callable[..., dict[str, Any]],
) -> None:
    doc = run(case("2026-04-05", HELD, anc=(("2026-04-01", 400),)))
    d = congenital(doc)
    # today the dose is withheld (ANC 400 < 500: the label limit refuses it), but the course is held,
    # not over: its 6-month plan stands
    assert d["outcome"] == Outcome.EXCLUDED.value
    assert not any("completed" in r and "not completed" not in r for r in d["reasons"])
    assert any(
        "held since 2026-04-02 for toxicity: the course is not completed" in r
        and "complete 6 months on 2026-09-10" in r
        for r in d["reasons"]
    )
    [held] = [a for a in alert(doc, "neutropenia") if "held since 2026-04-02" in a["message"]]
    assert held["severity"] == "warning"
    # no ANC since the hold: the hold's cause; platelets and Hb, never measured, are not named as
    # toxicities (probe11 W1: the restart follows the hold's cause, Kimberlin 2015)
    assert (
        "no ANC since the hold (last 400 cells/uL on 2026-04-01; restart above 750)"
        in held["message"]
    )
    assert "platelets" not in held["message"]
    assert {"event": "blood-count", "earliest": "2026-04-05"}.items() <= next(
        s for s in doc["schedule"] if s["event"] == "blood-count" and s["earliest"] == "2026-04-05"
    ).items()


def test_held_anc_600_keeps_holding(run: Callable[..., dict[str, Any]]) -> None:
    doc = run(case("2026-04-05", HELD, anc=(("2026-04-01", 400), ("2026-04-04", 600))))
    [held] = [a for a in alert(doc, "neutropenia") if "held since" in a["message"]]
    assert (
        "ANC 600 cells/uL on 2026-04-04 (since the hold) has not risen above 750" in held["message"]
    )
    assert alert(doc, "sources-differ") == []


def test_held_anc_exactly_750_keeps_holding(run: Callable[..., dict[str, Any]]) -> None:
    doc = run(case("2026-04-05", HELD, anc=(("2026-04-01", 400), ("2026-04-04", 750))))
    [held] = [a for a in alert(doc, "neutropenia") if "held since" in a["message"]]
    assert held["severity"] == "warning" and "has not risen above 750" in held["message"]


def test_held_anc_800_restarts_and_shows_every_source_on_the_dose(
    run: Callable[..., dict[str, Any]],
) -> None:
    raw = case("2026-04-05", HELD, anc=(("2026-04-01", 400), ("2026-04-04", 800)))
    raw["observations"] += [  # every label §5.1 count above its limit since the hold
        {"date": "2026-04-04", "code": "platelets", "value": 150000, "unit": "cells/uL"},
        {"date": "2026-04-04", "code": "hemoglobin", "value": 12, "unit": "g/dL"},
    ]
    doc = run(raw)
    [ready] = [a for a in alert(doc, "neutropenia") if "held since" in a["message"]]
    assert ready["severity"] == "info"
    assert congenital(doc)["outcome"] == "recommended"
    assert ready["message"].startswith(
        "valganciclovir: held since 2026-04-02 for toxicity; ANC 800 cells/uL on 2026-04-04 is above 750: "
        "restart; the sources differ on the restart dose"
    )
    [differ] = alert(doc, "sources-differ")
    text = differ["message"]
    assert "full dose after ANC > 750" in text
    assert "half dose after ANC > 1000 (bcwomens2021-ganciclovir-neonatal" in text
    assert "half dose (lhsc-nicu-ganciclovir" in text
    assert {"bcwomens2021-ganciclovir-neonatal", "lhsc-nicu-ganciclovir"} <= set(
        differ["citations"]
    )
    # no blood-count recheck "today" once the count has recovered
    assert not any(
        s["event"] == "blood-count"
        and s["earliest"] == "2026-04-05"
        and "recheck before" in (s.get("reason") or "")
        for s in doc["schedule"]
    )


def test_resumed_course_is_a_running_course(run: Callable[..., dict[str, Any]]) -> None:
    resumed = {**COURSE, "start": "2026-04-06"}
    doc = run(case("2026-04-10", HELD, resumed, anc=(("2026-04-01", 400), ("2026-04-05", 800))))
    d = congenital(doc)
    assert d["outcome"] == "recommended"
    assert any("continue to complete 6 months on 2026-09-10" in r for r in d["reasons"])
    assert not any("held since" in a["message"] for a in alert(doc, "neutropenia"))


def test_stopped_early_without_a_reason_is_not_read_as_completed(
    run: Callable[..., dict[str, Any]],
) -> None:
    stopped = {**COURSE, "stop": "2026-04-02"}
    doc = run(case("2026-04-05", stopped))
    d = congenital(doc)
    assert d["outcome"] == "insufficient_data"
    assert d["reasons"] == [
        "Course of valganciclovir from 2026-03-10 stopped on 2026-04-02, before the planned end 2026-09-10; "
        "the reason is not recorded, so it is not read as completed."
    ]
    assert "therapy.stop_reason" in {m["item"] for m in doc["missing"]}


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (
            "intolerance",
            "intolerance: whether to resume or use an alternative is a specialist decision",
        ),
        ("resistance", "suspected resistance: see resistance-genotyping"),
        ("switched", "switched to another drug or route"),
    ],
)
def test_stopped_early_for_a_reason_goes_to_the_specialist(
    run: Callable[..., dict[str, Any]], reason: str, words: str
) -> None:
    doc = run(case("2026-04-05", {**COURSE, "stop": "2026-04-02", "stop_reason": reason}))
    d = congenital(doc)
    assert d["outcome"] == "specialist_review"
    assert d["reasons"][0].startswith(
        "Course of valganciclovir from 2026-03-10 stopped on 2026-04-02 (planned end 2026-09-10) for "
        + words
    )


def test_completed_course_is_completed(run: Callable[..., dict[str, Any]]) -> None:
    doc = run(case("2026-10-01", {**COURSE, "stop": "2026-09-10", "stop_reason": "completed"}))
    assert congenital(doc)["reasons"] == [
        "Course of valganciclovir from 2026-03-10 to 2026-09-10 completed; no further antiviral therapy."
    ]


def test_held_and_never_resumed_past_the_planned_end(run: Callable[..., dict[str, Any]]) -> None:
    held = {**COURSE, "stop": "2026-08-01", "stop_reason": "held_toxicity"}
    d = congenital(run(case("2026-09-20", held)))
    assert d["outcome"] == "specialist_review"
    assert "for toxicity and not resumed within the planned course" in d["reasons"][0]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {**COURSE, "stop": "2026-04-02", "stop_reason": "paused"},
            "therapy[0].stop_reason: unknown reason 'paused'",
        ),
        (
            {**COURSE, "stop_reason": "held_toxicity"},
            "therapy[0].stop_reason: a stop reason needs the stop date",
        ),
    ],
)
def test_bad_stop_reason_is_refused(
    make_case: Callable[[dict[str, Any]], Case], entry: dict[str, Any], message: str
) -> None:
    with pytest.raises(CaseFormatError) as error:
        make_case(case("2026-04-05", entry))
    assert message in str(error.value)
