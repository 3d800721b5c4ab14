"""Vignettes of issue 14 item 8 (AIFA): "the first twenty-four weeks", onset or diagnosis (I-1).

Source: seed 000 — eligible women are those "diagnosed with primary CMV infection during the
periconceptional period or in the first twenty-four weeks of pregnancy". The pack judges the limit
on the onset of the infection (I-1); judged on the diagnosis, a woman infected at 23+6 and
diagnosed at 24+4 is not eligible. When the two readings differ the answer shows both, applies
the onset reading and asks for clinical sign-off; when they agree nothing is added.

Dates from LMP 2025-12-20 (``late_case``): 22+0 = 2026-05-23, 23+6 = 2026-06-05,
24+0 = 2026-06-06, 24+4 = 2026-06-10. The diagnosis is the day the AIFA criterion was met: the
first positive IgG/IgM/low-avidity sample (``first_positive``).
"""

from __future__ import annotations

from typing import Any

import pytest
from pregnancy_cases import case, run, serology, summary

from cmvcds.knowledge import Knowledge


def late_case(
    onset: str | None, first_positive: str, last_negative: str = "2026-05-23"
) -> dict[str, Any]:
    rows = serology(
        (last_negative, "cmv_igg", "negative"),
        (first_positive, "cmv_igg", "positive"),
        (first_positive, "cmv_igm", "positive"),
        (first_positive, "cmv_igg_avidity", "low"),
    )
    pregnancy: dict[str, Any] = {"symptom_onset": onset} if onset else {}
    return case(observations=rows, pregnancy=pregnancy, assessed_on="2026-06-12")


def readings(doc: dict[str, Any]) -> list[tuple[str, str, bool]]:
    entries = doc["findings"].get("interpretations", [])
    return [(r["judged_on"], r["answer"], r["applied"]) for e in entries for r in e["readings"]]


DIFFER = [("onset", "eligible", True), ("diagnosis", "not eligible", False)]


@pytest.mark.parametrize(
    ("raw", "outcome", "want"),
    [
        # onset before 24+0, diagnosis after: the readings differ
        pytest.param(late_case("2026-06-05", "2026-06-10"), "recommended", DIFFER, id="onset-23+6-diagnosis-24+4"),
        # exactly at 24+0: a diagnosis on 24+0 is not "in the first 24 weeks"
        pytest.param(late_case("2026-06-05", "2026-06-06"), "recommended", DIFFER, id="onset-23+6-diagnosis-24+0"),
        # both before: the readings agree, nothing is added
        pytest.param(late_case("2026-06-04", "2026-06-05"), "recommended", [], id="onset-23+5-diagnosis-23+6"),
        # both after (onset exactly at 24+0): not eligible either way
        pytest.param(late_case("2026-06-06", "2026-06-10"), "not_indicated", [], id="onset-24+0-diagnosis-24+4"),
        pytest.param(late_case("2026-06-07", "2026-06-10"), "not_indicated", [], id="onset-24+1-diagnosis-24+4"),
        # an onset window straddling 24+0: undecidable by the onset, not eligible by the diagnosis
        pytest.param(late_case(None, "2026-06-10"), "specialist_review",
                     [("onset", "undecidable (specialist review)", True), ("diagnosis", "not eligible", False)],
                     id="window-straddles-24+0"),
    ],
)  # fmt: skip
def test_first_24_weeks(
    knowledge: Knowledge, raw: dict[str, Any], outcome: str, want: list[tuple[str, str, bool]]
) -> None:
    doc = run(knowledge, raw)
    got = summary(doc)
    assert got["decisions"]["valacyclovir-prevention"] == outcome
    assert readings(doc) == want
    assert ("boundary-case" in got["alerts"]) == bool(want)


def test_interpretation_entry_in_full(knowledge: Knowledge) -> None:
    doc = run(knowledge, late_case("2026-06-05", "2026-06-10"))
    [entry] = doc["findings"]["interpretations"]
    assert entry == {
        "rule": "I-1",
        "question": "AIFA 648/96 prevention: 'first twenty-four weeks' judged on the onset or on the diagnosis?",
        "wording": "Gestanti a cui sia stata diagnosticata un'infezione primaria da CMV in epoca periconcezionale "
                   "o in gravidanza (si veda definizione sottostante*) nelle prime ventiquattro settimane di gestazione.",
        "limit": {"ga": "24+0", "date": "2026-06-06"},
        "readings": [
            {"judged_on": "onset", "date": "2026-06-05 (23+6)", "answer": "eligible", "applied": True},
            {"judged_on": "diagnosis", "date": "2026-06-10 (24+4)", "answer": "not eligible", "applied": False},
        ],
        "sign_off": "needed: the readings differ for this patient; the onset reading is applied (I-1)",
        "citations": ["aifa2020-648-valacyclovir", "infezmed2021-letter-valacyclovir-648",
                      "cmvcds2026-pregnancy-interpretations"],
    }  # fmt: skip
    alert = next(a for a in doc["alerts"] if a["code"] == "boundary-case")
    assert "clinical sign-off" in alert["message"]


def test_dossier_shows_both_readings(knowledge: Knowledge) -> None:
    import copy

    from pregnancy_cases import TODAY

    from cmvcds.adapters.report.dossier import dossier_html
    from cmvcds.domain.case import parse_case

    raw = late_case("2026-06-05", "2026-06-10")
    html = dossier_html(
        run(knowledge, raw), parse_case(copy.deepcopy(raw), knowledge, today=TODAY), knowledge
    )
    assert "Interpretation I-1 — clinical sign-off needed" in html
    assert "Judged on the onset (2026-06-05 (23+6)): eligible (applied)" in html
    assert "Judged on the diagnosis (2026-06-10 (24+4)): not eligible" in html
    assert "diagnosticata un&#39;infezione primaria" in html or "diagnosticata un'infezione primaria" in html


def test_no_dossier_for_a_window_straddling_24_0(knowledge: Knowledge) -> None:
    """An onset window straddling 24+0 is specialist review (A2, I-1): no 648/96 dossier or
    consent form is made (probe10 W1); the refusal says so and why."""
    import copy

    from pregnancy_cases import TODAY

    from cmvcds.adapters.report.dossier import consent_html, dossier_html, refusal_html
    from cmvcds.domain.case import parse_case
    from cmvcds.errors import NotEligible

    raw = late_case(None, "2026-06-10")
    document = run(knowledge, raw)
    parsed = parse_case(copy.deepcopy(raw), knowledge, today=TODAY)
    for make in (lambda: dossier_html(document, parsed, knowledge),
                 lambda: consent_html(document, parsed)):  # fmt: skip
        with pytest.raises(NotEligible) as refused:
            make()
        assert refused.value.exit_code == 3
        assert refused.value.problems[1].startswith("valacyclovir-prevention: specialist_review — ")
    page = refusal_html(document, parsed)
    assert 'data-outcome="specialist_review"' in page
    assert "A specialist review is needed" in page
    assert "I, the undersigned" not in page and "data-print=" not in page
