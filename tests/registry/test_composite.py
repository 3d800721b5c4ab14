"""MEGAL-ITALI's composite secondary outcome: termination of pregnancy OR infection at birth."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from cmvcds.registry import analytics
from cmvcds.registry.access import Actor
from cmvcds.registry.services import crf, subjects

from .conftest import World
from .helpers import CONSENT, pregnancy

COMPOSITE = "termination-or-infection-at-birth"


def _pregnancy(
    s: Session, actor: Actor, *, treated: bool, outcome: str | None, newborns: tuple[str, ...]
) -> str:
    """A treated/untreated pregnancy with its outcome (1 live, 2 termination, 3 loss) and babies."""
    key = pregnancy(s, actor, treated=treated, transmitted=None)
    if outcome is not None:
        crf.save_form(s, actor, key, "delivery", "pregnancy_outcome", {"outcome_type": outcome})
    for n, infected in enumerate(newborns):
        child = subjects.enrol_newborn(s, actor, mother=key, hospital_record_number=f"{key}-{n}",
                                       enrolled_on=date(2026, 7, 1), consent=CONSENT)  # fmt: skip
        crf.save_form(s, actor, child.pseudonym, "newborn_birth", "newborn_birth",
                      {"ccmv_at_birth": infected})  # fmt: skip
    return key


def test_composite_counts_each_pregnancy_once(world: World) -> None:
    actor = world.entry_a
    with world.registry.session(actor) as s:
        for treated, outcome, newborns in [
            (True, "2", ()),  # termination: event
            (True, "1", ("1",)),  # live birth, infected newborn: event
            (True, "1", ("0",)),  # live birth, uninfected: non-event
            (True, "1", ()),  # live birth, newborn not recorded: missing, left out
            (True, "1", ("0", "1")),  # twins, one infected: one event (one pregnancy)
            (False, "2", ()),  # termination: event
            (False, "3", ()),  # miscarriage, no newborn: infection unknown, left out
            (False, "1", ("0",)),  # non-event
            (False, "1", ("0",)),  # non-event
            (False, None, ("1",)),  # outcome form missing but newborn infected: event
        ]:
            _pregnancy(s, actor, treated=treated, outcome=outcome, newborns=newborns)
        gone = _pregnancy(s, actor, treated=False, outcome="2", newborns=())
        subjects.withdraw_consent(s, actor, gone, on=date(2026, 8, 1), reason="request")
    with world.registry.session(world.stat) as s:
        result = analytics.analyse(s, world.stat, COMPOSITE)
    overall = result["overall"]
    assert overall["table"] == {"exposed": [3, 1], "unexposed": [2, 2]}
    # OR = (3 × 2) / (1 × 2) = 3; Pearson χ² = 8 · (6 − 2)² / (4 · 4 · 5 · 3) = 0.533;
    # Fisher: every table with these margins is at most as likely as the observed (30/70) → p = 1.
    assert overall["odds_ratio"] == pytest.approx(3.0)
    assert overall["chi2"] == pytest.approx(8 * 16 / 240)
    assert overall["fisher_p"] == pytest.approx(1.0)
    assert (overall["ci_method"], overall["chi2_method"]) == ("woolf", "pearson-uncorrected")
    definition = result["outcome_definition"]
    assert definition["method"] == "any-component-event-per-pregnancy"
    assert definition["unit"] == "pregnancy"
    assert [c["field"] for c in definition["components"]] == ["outcome_type", "ccmv_at_birth"]
    assert result["estimate"] == "crude (unweighted) odds ratio"
    assert result["strata"][0]["table"] == overall["table"]  # all in one timing stratum


def test_single_outcome_analyses_name_their_definition(world: World) -> None:
    with world.registry.session(world.stat) as s:
        result = analytics.analyse(s, world.stat, "termination-of-pregnancy")
    assert result["outcome_definition"]["method"] == "single-outcome"
    assert "outcome_type in ['2']" in result["outcome_definition"]["rule"]


def test_site_user_sees_only_their_pregnancies_in_the_composite(world: World) -> None:
    with world.registry.session(world.entry_a) as s:
        _pregnancy(s, world.entry_a, treated=True, outcome="2", newborns=())
    with world.registry.session(world.entry_b) as s:
        _pregnancy(s, world.entry_b, treated=False, outcome="1", newborns=("1",))
    with world.registry.session(world.pi_a) as s:
        mine = analytics.analyse(s, world.pi_a, COMPOSITE)["overall"]["table"]
    with world.registry.session(world.dm) as s:
        every = analytics.analyse(s, world.dm, COMPOSITE)["overall"]["table"]
    assert mine == {"exposed": [1, 0], "unexposed": [0, 0]}
    assert every == {"exposed": [1, 0], "unexposed": [1, 0]}
