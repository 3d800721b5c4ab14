"""The end-of-treatment rule ends the course: no further on-drug checks are planned (issue 14 item 6).

T10 (Kotton 2025 SOT consensus; the pack's cmv_treatment table): treat at least 14 days, until
clinical resolution (``presentation.course: resolved``) and the site's clearance criterion on weekly
blood viral loads (here SITE: 2 consecutive weekly loads below the LLOQ, at least 5 days apart).
Baseline (test_treatment._resolved): a kidney recipient with CMV syndrome on valganciclovir 900 mg
q12h from 2026-06-01, resolved, plasma not detected on 2026-06-15 and below the LLOQ on 2026-06-22,
assessed 2026-06-23 (day 22). One change per vignette.
"""

from __future__ import annotations

from typing import Any

from cmvcds.knowledge import Knowledge

from .helpers import events, run
from .test_treatment import _resolved

CLEAR = (("2026-06-15", "not_detected"), ("2026-06-22", "detected_below_lloq"))


def treatment(doc: dict[str, Any]) -> dict[str, Any]:
    (d,) = [d for d in doc["decisions"] if d["id"] == "antiviral-treatment"]
    return d


def on_drug_checks(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (s["event"], s["earliest"])
        for s in doc["schedule"]
        if (s.get("reason") or "").startswith("valganciclovir:")
    )


def test_stop_rule_met_ends_the_course(knowledge: Knowledge) -> None:
    doc = run(knowledge, _resolved("2026-06-23", *CLEAR))
    assert treatment(doc)["outcome"] == "not_indicated"
    assert any("stop valganciclovir" in r for r in treatment(doc)["reasons"])
    # no weekly blood count, creatinine or on-treatment viral load for a course that has ended
    assert on_drug_checks(doc) == []
    assert "2026-06-23" in events(doc, "viral-load")  # post-treatment surveillance remains


def test_not_resolved_continues_with_its_checks(knowledge: Knowledge) -> None:
    raw = _resolved("2026-06-23", *CLEAR)
    raw["presentation"]["course"] = "improving"
    doc = run(knowledge, raw)
    assert treatment(doc)["outcome"] == "recommended"
    assert ("blood-count", "2026-06-29") in on_drug_checks(doc)


def test_day_13_is_too_early_even_when_clear(knowledge: Knowledge) -> None:
    doc = run(
        knowledge,
        _resolved("2026-06-14", ("2026-06-06", "not_detected"), ("2026-06-13", "not_detected")),
    )
    assert treatment(doc)["outcome"] == "recommended"
    assert ("blood-count", "2026-06-15") in on_drug_checks(doc)


def test_one_clear_load_of_two_needed_continues(knowledge: Knowledge) -> None:
    doc = run(knowledge, _resolved("2026-06-23", ("2026-06-22", "not_detected")))
    assert treatment(doc)["outcome"] == "recommended"
    assert on_drug_checks(doc) != []
