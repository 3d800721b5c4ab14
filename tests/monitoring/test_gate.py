"""The monitoring pathway's entry (``engine/monitoring/gate.py``): the same result as the
pathway for every case, and the pathway not imported for a case with nothing to monitor."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from cmvcds.domain.case import parse_case
from cmvcds.domain.settings import SiteSettings
from cmvcds.engine.monitoring import evaluate
from cmvcds.engine.monitoring.gate import evaluate as gate
from cmvcds.engine.monitoring.pathway import evaluate as pathway
from cmvcds.knowledge import Knowledge

EXAMPLES = sorted(
    p
    for p in (Path(__file__).resolve().parents[2] / "examples").glob("*.yaml")
    if p.name != "settings.yaml"
)


def test_the_package_evaluate_is_the_gate() -> None:
    assert evaluate is gate


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_the_gate_answers_as_the_pathway(example: Path, knowledge: Knowledge) -> None:
    case = parse_case(yaml.safe_load(example.read_text()), knowledge, today=date(2030, 1, 1))
    on = case.assessed_on
    assert gate(case, knowledge, on, SiteSettings()) == pathway(case, knowledge, on, SiteSettings())


#: What the monitoring pathway imports and a case with nothing to monitor does not need.
HEAVY = (
    "cmvcds.engine.monitoring.pathway",
    "cmvcds.engine.monitoring.courses",
    "cmvcds.engine.monitoring.dose",
    "cmvcds.engine.kinetics",
    "cmvcds.knowledge.schemas.monitoring",
    "cmvcds.knowledge.schemas.transplant",
)


def test_the_package_imports_its_modules_on_first_use() -> None:
    """Importing the package imports none of the pathway's modules; its other names still
    import on first use."""
    code = (
        f"import sys\nHEAVY = {HEAVY!r}\n"
        "from cmvcds.engine import monitoring\n"
        "print(sorted(m for m in sys.modules if m in HEAVY))\n"
        "from cmvcds.engine.monitoring import add_months, refractory_calls\n"
        "print(callable(add_months) and callable(refractory_calls))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["[]", "True"]


@pytest.mark.parametrize(
    "result", ["detected", "not_detected", "below_lloq", "detected_below_lloq"]
)
@pytest.mark.parametrize("specimen", ["plasma", "whole_blood", "urine", "amniotic_fluid", None])
def test_cmv_dna_without_a_value_makes_no_series(result: str, specimen: str | None) -> None:
    """What the gate relies on: a viral-load series needs a quantified ``cmv_dna`` result."""
    from types import SimpleNamespace

    from cmvcds.engine.kinetics import viral_load_series

    observations = tuple(
        SimpleNamespace(
            date=date(2026, 1, day),
            code=code,
            specimen=specimen,
            value=None,
            unit=unit,
            result=result,
        )
        for day, code, unit in [(1, "cmv_dna", "IU/mL"), (2, "cmv_dna", None), (3, "cmv_igg", None)]
    )
    assert viral_load_series(observations) == ()
    assert viral_load_series(observations, until=date(2026, 1, 2)) == ()
