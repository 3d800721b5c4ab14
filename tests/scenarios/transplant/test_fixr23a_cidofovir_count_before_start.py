"""Cidofovir started on an ANC ≤ 500 measured the day before (fixr23a item 6a).

Source: VISTIDE label (Warnings: neutrophil counts monitored during therapy; Table 4 grades
"Neutropenia (≤ 500 cells/mm3)" as serious); ADR 0033 decision 2 (review row, recheck before
the next dose). Vignette: debt23's running cidofovir course, started the day after the ANC of
500 cells/µL (2026-11-03 → start 2026-11-04, assessed 2026-11-04): the count the course
started on is the latest, so the critical alert comes with its recheck item; 501 gives neither.
"""

from __future__ import annotations

import copy
from typing import Any

from cmvcds.knowledge import Knowledge
from transplant.helpers import run
from transplant.test_debt23_cidofovir_neutropenia import RUNNING


def _started_after(anc: int) -> dict[str, Any]:
    raw = copy.deepcopy(RUNNING)
    raw["observations"][3]["value"] = anc
    raw["therapy"][0]["start"] = "2026-11-04"
    return raw


def _rechecks(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for s in document["schedule"]
        if s["event"] == "blood-count"
        and "ANC 500 cells/uL on 2026-11-03: recheck before the next dose"
        in (s.get("reason") or "")
    ]


def test_the_count_before_the_start_is_rechecked(knowledge: Knowledge) -> None:
    document = run(knowledge, _started_after(500))
    assert any(a["code"] == "neutropenia" for a in document["alerts"])
    assert [s["earliest"] for s in _rechecks(document)] == ["2026-11-04"]


def test_501_before_the_start_gives_no_recheck(knowledge: Knowledge) -> None:
    document = run(knowledge, _started_after(501))
    assert not any(a["code"] == "neutropenia" for a in document["alerts"])
    assert _rechecks(document) == []
