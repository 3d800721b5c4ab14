"""Two different results of one measurement on the same date (outside probe, session 4, D1).

design.md §3: the observations' "order does not matter". The probe's kidney recipient (D+/R−,
54 y, 80 kg) had creatinine 1.0 and 3.0 mg/dL on 2026-03-05: valganciclovir prophylaxis was
450 mg q48h (Cockcroft-Gault 31.9 mL/min, valcyte label band 25–39) or 900 mg q24h (95.6 mL/min,
band ≥ 60) depending on which line came first. Neither may be chosen: the dose waits for the valid
value (insufficient data naming creatinine) with a ``contradictory-input`` alert, and every part
that does not need creatinine is still answered.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cmvcds.assess import assess
from cmvcds.domain.case import Case
from cmvcds.engine.dosing import dose_patient_from_case
from cmvcds.knowledge import Knowledge
from tests.outside_probe.conftest import parsed, raw_case

ROOT = Path(__file__).resolve().parents[2]


def _doc(case: Case, knowledge: Knowledge) -> dict[str, Any]:
    document = assess(case, knowledge).to_dict()
    document.pop("case_id")
    return document


def _decisions(document: dict[str, Any]) -> dict[str, str]:
    return {d["id"]: d["outcome"] for d in document["decisions"]}


def _codes(document: dict[str, Any]) -> list[str]:
    return [a["code"] for a in document["alerts"]]


def test_transplant_dose_does_not_depend_on_which_creatinine_comes_first(
    probe: Callable[[str], Case], knowledge: Knowledge
) -> None:
    first, second = (_doc(probe(n), knowledge) for n in ("t-cr-1.0", "t-cr-3.0"))
    assert first == second
    assert _decisions(first) == {
        "antiviral-prophylaxis": "insufficient_data",
        "preemptive-therapy": "not_indicated",  # does not need creatinine: still answered
    }
    assert first["regimens"] == []
    assert "contradictory-input" in _codes(first)
    alert = next(a for a in first["alerts"] if a["code"] == "contradictory-input")
    assert "1.0 mg/dL and 3.0 mg/dL" in alert["message"] and "2026-03-05" in alert["message"]
    assert any(
        m["item"] == "creatinine" and "two different results" in m["why"] for m in first["missing"]
    )


def test_equal_duplicate_values_are_not_a_contradiction(
    knowledge: Knowledge,
) -> None:
    raw = raw_case("t-cr-1.0")
    raw["observations"][1]["value"] = 1.0  # the same result entered twice
    document = _doc(parsed(raw, knowledge), knowledge)
    assert "contradictory-input" not in _codes(document)
    # CrCl (140 − 54) × 80 / (72 × 1.0) = 95.6 mL/min: label band ≥ 60, 900 mg once daily
    (regimen,) = document["regimens"]
    assert (regimen["dose_mg"], regimen["every_h"]) == (900, 24)


def test_pregnancy_same_day_creatinine_is_asked_for_not_chosen(
    probe: Callable[[str], Case], knowledge: Knowledge
) -> None:
    """k1: creatinine 0.7 and 1.3 mg/dL on one day (AIFA exclusion > 1.1 mg/dL, rule A7): one
    value would exclude her, the other not. Before: insufficient data with an empty reason
    ("The dosing engine gives no regimen:") and nothing missing, or excluded when swapped."""
    first, second = (_doc(probe(n), knowledge) for n in ("k1-cr-sameday", "k1b-cr-sameday-swapped"))
    assert first == second
    assert _decisions(first)["valacyclovir-prevention"] == "insufficient_data"
    assert "creatinine" in [m["item"] for m in first["missing"]]
    reasons = first["decisions"][0]["reasons"]
    assert not any(r.endswith("no regimen:") for r in reasons)
    assert "renal-exclusion" not in _codes(first)
    assert "contradictory-input" in _codes(first)


def test_an_older_contradiction_drops_only_its_date(knowledge: Knowledge) -> None:
    """A contradictory pair before a later valid result: the later result is used, the pair is
    named and not used."""
    raw = raw_case("t-cr-1.0")
    raw["observations"].append(
        {"date": "2026-03-06", "code": "creatinine", "value": 1.0, "unit": "mg/dL"}
    )
    document = _doc(parsed(raw, knowledge), knowledge)
    (regimen,) = document["regimens"]
    assert (regimen["dose_mg"], regimen["every_h"]) == (900, 24)
    alert = next(a for a in document["alerts"] if a["code"] == "contradictory-input")
    assert "neither result of 2026-03-05 is used" in alert["message"]
    assert not any(m["item"] == "creatinine" for m in document["missing"])


def test_infant_anc_and_weight_contradictions_are_the_same_class(knowledge: Knowledge) -> None:
    """Any numeric measurement the rules read: ANC 740 and 800 on one day decides whether a
    held course restarts (> 750); two weights on one day decide the 16 mg/kg dose."""
    raw = raw_case("c3d-resume740")
    raw["observations"].append(
        {"date": "2026-03-30", "code": "anc", "value": 800, "unit": "cells/uL"}
    )
    raw["observations"].append({"date": "2026-03-23", "code": "weight", "value": 3.9, "unit": "kg"})
    document = _doc(parsed(raw, knowledge), knowledge)
    messages = [a["message"] for a in document["alerts"] if a["code"] == "contradictory-input"]
    assert any(m.startswith("Contradictory results of anc on 2026-03-30: 740") for m in messages)
    assert any(
        m.startswith("Contradictory results of weight on 2026-03-23: 3.4 kg and 3.9 kg")
        for m in messages
    )
    assert {"anc", "weight"} <= {m["item"] for m in document["missing"]}
    assert all(r.get("dose_mg") is None for r in document["regimens"])


def test_the_dose_calculator_reads_a_contradictory_latest_value_as_unknown(
    probe: Callable[[str], Case],
) -> None:
    for name in ("t-cr-1.0", "t-cr-3.0"):
        patient = dose_patient_from_case(probe(name), probe(name).assessed_on)
        assert patient.creatinine_mg_dl is None
        assert patient.anc_per_ul == Decimal(3200)


def _shuffle_cases(knowledge: Knowledge) -> list[dict[str, Any]]:
    raws = [
        yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted((ROOT / "examples").glob("*.yaml"))
        if p.name != "settings.yaml"
    ]
    raws += [raw_case(p.stem) for p in sorted((Path(__file__).parent / "cases").glob("*.yaml"))]
    return [r for r in raws if len(r.get("observations") or []) > 1]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_shuffling_the_observations_never_changes_the_answer(
    knowledge: Knowledge, seed: int
) -> None:
    """design.md §3, as a property: any order of the observations gives the same assessment."""
    rng = random.Random(seed)
    for raw in _shuffle_cases(knowledge):
        shuffled = copy.deepcopy(raw)
        rng.shuffle(shuffled["observations"])
        assert _doc(parsed(shuffled, knowledge), knowledge) == _doc(
            parsed(raw, knowledge), knowledge
        ), raw["id"]


def test_the_dose_command_names_the_contradiction() -> None:
    """``cmvcds dose CASE``: the same insufficient answer for either order, saying why."""
    from typer.testing import CliRunner

    from cmvcds.adapters.cli.main import app

    documents = []
    flags = ["--drug", "valganciclovir", "--indication", "prophylaxis", "--format", "json"]
    for name in ("t-cr-1.0", "t-cr-3.0"):
        path = Path(__file__).parent / "cases" / f"{name}.yaml"
        result = CliRunner().invoke(app, ["dose", str(path), *flags])
        documents.append(json.loads(result.stdout))
    assert documents[0] == documents[1]
    assert documents[0]["outcome"] == "insufficient_data"
    assert documents[0]["alerts"][0]["code"] == "contradictory-input"
    assert documents[0]["missing"][0]["why"].startswith("two different results of creatinine")
