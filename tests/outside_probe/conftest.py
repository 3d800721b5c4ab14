"""The outside probe's vignettes (session 4), as its tester wrote them (``cases/``)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmvcds.domain.case import Case, parse_case
from cmvcds.knowledge import Knowledge

CASES = Path(__file__).parent / "cases"


def raw_case(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CASES / f"{name}.yaml").read_text(encoding="utf-8"))
    return data


def parsed(raw: dict[str, Any], knowledge: Knowledge) -> Case:
    on = raw["assessed_on"]
    today = on if isinstance(on, date) else date.fromisoformat(str(on))
    return parse_case(copy.deepcopy(raw), knowledge, today=today)


@pytest.fixture
def probe(knowledge: Knowledge) -> Callable[[str], Case]:
    return lambda name: parsed(raw_case(name), knowledge)
