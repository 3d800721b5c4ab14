"""Vignettes of rule I-13: a CMV IgG positive before the periconceptional window is immunity that
precedes the pregnancy, so the infection is non-primary (Zalel 2008, Ultrasound Obstet Gynecol
31(4):417-420: women with documented preconceptional immunity; AIFA 648/96 prevention is for a
primary infection only, rules A1, A2).

Baseline (pregnancy_cases): LMP 2025-12-20, so the default periconceptional window (LMP - 7 d to
LMP + 35 d, I-6) starts on 2025-12-13. One change each: the date of the only (positive) IgG, or
what is added to it.
"""

from __future__ import annotations

from typing import Any

from pregnancy_cases import case, expected, run, serology, summary

from cmvcds.knowledge import Knowledge

NON_PRIMARY = expected(
    infection={"status": "non_primary"},
    decisions={"valacyclovir-prevention": "not_indicated"},
    regimens=[], amniocentesis=[], stop=[],
)  # fmt: skip


def igg_positive_on(day: str, *more: tuple[str, str, str]) -> dict[str, Any]:
    return case(observations=serology((day, "cmv_igg", "positive"), *more))


def test_igg_positive_before_the_window_is_non_primary(knowledge: Knowledge) -> None:
    # IgG positive on 2025-10-01 (11 weeks before the LMP), no IgM: formerly insufficient data.
    doc = run(knowledge, igg_positive_on("2025-10-01"))
    assert summary(doc) == NON_PRIMARY
    (decision,) = doc["decisions"]
    assert decision["rules"] == ["A1", "I-13"]
    assert "zalel2008-uog-preconceptional-immunity" in decision["citations"]
    assert decision["reasons"][0].startswith(
        "CMV IgG positive on 2025-10-01, before the periconceptional window (from 2025-12-13)"
    )


def test_igg_positive_the_day_before_the_window_is_non_primary(knowledge: Knowledge) -> None:
    assert summary(run(knowledge, igg_positive_on("2025-12-12"))) == NON_PRIMARY


def test_igg_positive_on_the_first_day_of_the_window_still_needs_igm(knowledge: Knowledge) -> None:
    # Inside the window the primary infection may itself be periconceptional (I-2): IgM decides.
    assert summary(run(knowledge, igg_positive_on("2025-12-13"))) == expected(
        infection={"status": "insufficient_data"},
        decisions={"valacyclovir-prevention": "insufficient_data"},
        regimens=[], amniocentesis=[], stop=[], missing=["cmv_igm"],
    )  # fmt: skip


def test_site_window_from_the_lmp_moves_the_boundary(knowledge: Knowledge) -> None:
    # With a site window starting at the LMP (2025-12-20), an IgG positive on 2025-12-13 precedes it.
    settings = {"pregnancy.periconceptional_from_day": 0, "pregnancy.periconceptional_to_day": 28}
    assert summary(run(knowledge, igg_positive_on("2025-12-13"), settings)) == NON_PRIMARY


def test_preconceptional_igg_with_intermediate_avidity_is_non_primary(knowledge: Knowledge) -> None:
    # IgG 2025-10-01; IgM positive, intermediate avidity in pregnancy, no maternal DNA test:
    # criterion (c) could not be judged, but the pre-existing IgG settles the status.
    raw = igg_positive_on(
        "2025-10-01",
        ("2026-02-20", "cmv_igg", "positive"),
        ("2026-02-20", "cmv_igm", "positive"),
        ("2026-02-20", "cmv_igg_avidity", "intermediate"),
    )
    assert summary(run(knowledge, raw)) == NON_PRIMARY


def test_preconceptional_primary_infection_keeps_its_status(knowledge: Knowledge) -> None:
    # IgG and IgM positive with low avidity on 2025-11-20 (before the window): a primary infection
    # established by criterion (b), whose onset is preconceptional: not indicated either (A2).
    raw = igg_positive_on(
        "2025-11-20",
        ("2025-11-20", "cmv_igm", "positive"),
        ("2025-11-20", "cmv_igg_avidity", "low"),
    )
    assert summary(run(knowledge, raw)) == expected(
        infection={"status": "primary", "criterion": "igg-igm-low-avidity",
                   "onset_window": [None, "2025-11-20"], "timing": "preconceptional or earlier"},
        decisions={"valacyclovir-prevention": "not_indicated"},
        regimens=[], amniocentesis=[], stop=[],
    )  # fmt: skip
