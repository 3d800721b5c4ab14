"""``cmvcds explain CONTEXT``: the overview is generated from the pack, every sentence cited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.domain.settings import parse_settings
from cmvcds.engine.explain import contexts, overview
from cmvcds.errors import InputError, SettingsError
from cmvcds.knowledge import Knowledge

EXAMPLES = Path(__file__).parents[3] / "examples"


@pytest.mark.parametrize(
    "context",
    ["transplant", "hiv", "immunocompetent", "immunocompromised", "congenital", "pregnancy"],
)
def test_every_statement_is_cited_and_versioned(knowledge: Knowledge, context: str) -> None:
    document = overview(context, knowledge).to_dict()
    assert document["knowledge"] == knowledge.stamp()
    statements = [s for section in document["sections"] for s in section["statements"]]
    assert statements and all(s["citations"] for s in statements)
    cited = {c for s in statements for c in s["citations"]}
    assert cited == {r["id"] for r in document["references"]}
    assert cited <= set(knowledge.sources)


def test_transplant_overview_sentences_come_from_the_tables(knowledge: Knowledge) -> None:
    document = overview("transplant", knowledge).to_dict()
    texts: dict[str, list[str]] = {}
    for section in document["sections"]:
        texts.setdefault(section["kind"], []).extend(st["text"] for st in section["statements"])
    assert (
        "Kidney, D+/R−: valganciclovir prophylaxis from day 0–10 through day 200, or letermovir through day 200 "
        "(kidney_dpos_rneg_drug)." in texts["prevention"]
    )
    assert any(
        t.startswith(
            "Valganciclovir, treatment (pre-emptive or of disease): 900 mg twice daily oral"
        )
        for t in texts["doses"]
    )
    assert any(
        "Foscarnet" in t and "electrolytes" not in t and "every 3 days" in t
        for t in texts["monitoring"]
    )
    assert any(t.startswith("pet_threshold_iu_ml.sot:") for t in texts["settings"])


def test_unknown_context(knowledge: Knowledge) -> None:
    assert set(contexts(knowledge)) == {
        "transplant",
        "hiv",
        "immunocompetent",
        "immunocompromised",
        "congenital",
        "pregnancy",
    }
    with pytest.raises(InputError, match="no overview for 'neonatal'"):
        overview("neonatal", knowledge)


def test_congenital_and_pregnancy_overviews_come_from_their_tables(knowledge: Knowledge) -> None:
    """probe11 U7: ``explain congenital`` and ``explain pregnancy`` did not exist. Their sentences
    are generated from congenital/criteria.yaml, the congenital dosing rows (Kimberlin 2015: 16 mg/kg
    twice daily; Kimberlin 2003: IV ganciclovir 6 mg/kg) and the AIFA 648/96 protocol (valacyclovir
    2 g four times daily = 8 g/day; onset before 24+0)."""

    def texts(context: str) -> list[dict[str, object]]:
        document = overview(context, knowledge).to_dict()
        return [st for section in document["sections"] for st in section["statements"]]

    congenital = texts("congenital")
    said = [str(st["text"]) for st in congenital]
    assert (
        "Valganciclovir 16 mg/kg every 12 h (oral): 6 months; recalculate the dose monthly for weight."
        in said
    )
    assert any(t.startswith("Ganciclovir 6 mg/kg every 12 h (iv)") for t in said)
    assert any(
        "start by day 30 of life, gestational age ≥ 32 weeks, weight ≥ 1.8 kg" in t for t in said
    )
    renal = next(st for st in congenital if str(st["text"]).startswith("Renal function"))
    assert renal["verified"] is False  # the trial's renal criterion is not yet verified
    pregnancy = [str(st["text"]) for st in texts("pregnancy")]
    assert any(t.startswith("Valacyclovir 2000 mg every 6 h (8000 mg a day)") for t in pregnancy)
    assert any("onset before 24+0 weeks" in t for t in pregnancy)


def test_cli_text_and_json() -> None:
    runner = CliRunner()
    text = runner.invoke(app, ["explain", "hiv"])
    assert text.exit_code == 0, text.output
    assert "cmvcds knowledge" in text.output and "[nih-hiv-oi-cmv]" in text.output
    as_json = runner.invoke(app, ["explain", "immunocompetent", "--format", "json"])
    assert json.loads(as_json.output)["format"] == "cmvcds-overview/1"
    bad = runner.invoke(app, ["explain", "nonsense"])
    assert bad.exit_code == 2


def test_example_settings_file_is_valid_and_complete(knowledge: Knowledge) -> None:
    raw = yaml.safe_load((EXAMPLES / "settings.yaml").read_text(encoding="utf-8"))
    settings = parse_settings(raw, knowledge)
    assert settings.get("pet_threshold_iu_ml.sot") == 1000
    with pytest.raises(SettingsError):
        parse_settings({"clearance_consecutive_weekly_tests": 3}, knowledge)


@pytest.mark.parametrize(
    "example",
    sorted(
        p.name
        for p in EXAMPLES.glob("*.yaml")
        if p.name.startswith(("transplant", "hiv", "immuno"))
    ),
)
def test_examples_assess(example: str) -> None:
    result = CliRunner().invoke(
        app,
        [
            "assess",
            str(EXAMPLES / example),
            "--settings",
            str(EXAMPLES / "settings.yaml"),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["decisions"]
