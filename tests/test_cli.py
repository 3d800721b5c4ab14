"""The CLI surface of the foundation: knowledge listing, help, JSON on stdout, errors on stderr."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.knowledge import Knowledge

runner = CliRunner()


def test_knowledge_json_names_version_tables_and_sources(knowledge: Knowledge) -> None:
    result = runner.invoke(app, ["knowledge", "--sources", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["version"] == knowledge.version
    assert document["sha256"] == knowledge.sha256
    assert {t["name"] for t in document["tables"]} == set(knowledge.tables)
    assert {s["id"] for s in document["sources"]} == set(knowledge.sources)


def test_knowledge_text_flags_unverified_sources(knowledge: Knowledge) -> None:
    result = runner.invoke(app, ["knowledge", "--sources"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"cmvcds knowledge {knowledge.version} released ")
    unverified = [s for s in knowledge.sources.values() if not s.verified]
    for source in unverified:
        line = next(x for x in result.stdout.splitlines() if f"[{source.id}]" in x)
        assert line.endswith("(UNVERIFIED)")


def test_missing_case_file_is_bad_input() -> None:
    result = runner.invoke(app, ["assess", "no/such/case.yaml"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: CASE: cannot read no/such/case.yaml")


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("assess", "validate", "knowledge"):
        assert command in result.stdout
