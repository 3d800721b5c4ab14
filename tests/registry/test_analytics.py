"""The study analyses on the database reproduce the published 2×2 results."""

from __future__ import annotations

import pytest

from cmvcds.errors import InputError
from cmvcds.registry import analytics

from .conftest import World
from .helpers import pregnancy


def _cohort(world: World, a: int, b: int, c: int, d: int, timing: str) -> None:
    actor = world.entry_a
    with world.registry.session(actor) as s:
        for treated, transmitted, n in (
            (True, True, a),
            (True, False, b),
            (False, True, c),
            (False, False, d),
        ):
            for _ in range(n):
                pregnancy(s, actor, treated=treated, transmitted=transmitted, timing=timing)


def test_trial_table_reproduced_from_registry_records(world: World) -> None:
    # Shahar-Nissan 2020 counts split over two timing strata: periconceptional 2/20 vs 6/22,
    # first trimester 3/25 vs 8/25 → overall 5/45 vs 14/47.
    _cohort(world, 2, 18, 6, 16, timing="1")
    _cohort(world, 3, 22, 8, 17, timing="2")
    with world.registry.session(world.stat) as s:
        result = analytics.analyse(s, world.stat, "transmission-at-amniocentesis")
    overall = result["overall"]
    assert overall["table"] == {"exposed": [5, 40], "unexposed": [14, 33]}
    assert round(overall["odds_ratio"], 2) == 0.29
    assert [round(x, 2) for x in overall["ci95"]] == [0.10, 0.90]
    assert round(overall["chi2_p"], 3) == 0.027 and round(overall["fisher_p"], 3) == 0.039
    assert (overall["ci_method"], overall["chi2_method"]) == ("woolf", "pearson-uncorrected")
    strata = {row["label"]: row for row in result["strata"]}
    assert strata["Periconceptional"]["table"] == {"exposed": [2, 18], "unexposed": [6, 16]}
    assert strata["First trimester"]["table"] == {"exposed": [3, 22], "unexposed": [8, 17]}
    assert strata["Periconceptional"]["odds_ratio"] == pytest.approx((2 * 16) / (18 * 6))


def test_newborn_outcomes_and_safety_table(world: World) -> None:
    actor = world.entry_a
    with world.registry.session(actor) as s:
        pregnancy(
            s,
            actor,
            treated=True,
            transmitted=False,
            newborn={"ccmv_at_birth": "1", "symptomatic_at_birth": "0"},
        )
        pregnancy(s, actor, treated=True, transmitted=False, newborn={"ccmv_at_birth": "0"})
        pregnancy(
            s,
            actor,
            treated=False,
            transmitted=None,
            newborn={"ccmv_at_birth": "1", "symptomatic_at_birth": "1"},
        )
        from cmvcds.registry.services import crf
        from cmvcds.registry.services.subjects import list_subjects

        treated_key = list_subjects(s, actor)[0].pseudonym
        for instance, (grade, relation) in enumerate((("1", "4"), ("3", "1")), start=1):
            crf.save_form(s, actor, treated_key, "valacyclovir_start", "adverse_event", {
                "ae_term": "x", "ae_onset": "2026-02-01", "ae_severity": grade, "ae_relation": relation, "ae_serious": "0",
            }, instance=instance)  # fmt: skip
    with world.registry.session(world.dm) as s:
        birth = analytics.analyse(s, world.dm, "infection-at-birth")["overall"]
        assert birth["table"] == {"exposed": [1, 1], "unexposed": [1, 0]}
        symptomatic = analytics.analyse(s, world.dm, "symptomatic-at-birth")["overall"]
        assert symptomatic["table"] == {"exposed": [0, 1], "unexposed": [1, 0]}
        safety = analytics.safety_table(s, world.dm)
    grade1 = next(r for r in safety["rows"] if r["severity"].startswith("Grade 1"))
    grade3 = next(r for r in safety["rows"] if r["severity"].startswith("Grade 3"))
    assert grade1["by_relation"]["Probable"] == 1 and grade3["by_relation"]["Not related"] == 1
    assert (
        safety["events"],
        safety["related_events"],
        safety["subjects_with_event"],
        safety["treated_subjects"],
    ) == (2, 1, 1, 2)
    assert safety["proportion_treated_with_event"]["proportion"] == 0.5


def test_unknown_analysis(world: World) -> None:
    with (
        pytest.raises(InputError, match="transmission-at-amniocentesis"),
        world.registry.session(world.stat) as s,
    ):
        analytics.analyse(s, world.stat, "nope")
