"""Every rule id a decision can cite is defined in a rulebook of the knowledge pack, so that the
web page's rule links and the dossier always find the rule's text."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.core import RuleBook
from cmvcds.knowledge.schemas.pregnancy import RuleBook as PregnancyRuleBook

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "src" / "cmvcds" / "engine"
#: How rule ids are written in the engine: "T4", "H6", "N1", "D-4", "A7", "I-3".
RULE_LITERAL = re.compile(r"\"((?:[THNIA]\d+)|(?:[DI]-\d+))\"")


def _defined(knowledge: Knowledge) -> set[str]:
    ids: set[str] = set()
    for table in knowledge.tables.values():
        if isinstance(table, RuleBook | PregnancyRuleBook):
            ids |= {rule.id for rule in table.rules}
    return ids


def test_rule_ids_in_the_engine_are_defined(knowledge: Knowledge) -> None:
    used = {
        match.group(1)
        for path in ENGINE.rglob("*.py")
        for match in RULE_LITERAL.finditer(path.read_text(encoding="utf-8"))
    }
    assert used, "the pattern finds the engine's rule ids"
    assert used - _defined(knowledge) == set()


def test_rule_ids_in_example_assessments_are_defined(knowledge: Knowledge) -> None:
    runner = CliRunner()
    settings = str(ROOT / "examples" / "settings.yaml")
    cited: set[str] = set()
    for case in sorted((ROOT / "examples").glob("*.yaml")):
        if case.name == "settings.yaml":
            continue
        result = runner.invoke(
            app, ["assess", str(case), "--format", "json", "--settings", settings]
        )
        assert result.exit_code == 0, result.stderr
        for decision in json.loads(result.stdout)["decisions"]:
            cited |= set(decision.get("rules", []))
    assert cited, "the examples' decisions name their rules"
    assert cited - _defined(knowledge) == set()


def test_a_rule_id_is_defined_once(knowledge: Knowledge) -> None:
    ids = [
        rule.id
        for table in knowledge.tables.values()
        if isinstance(table, RuleBook | PregnancyRuleBook)
        for rule in table.rules
    ]
    assert len(ids) == len(set(ids))
