"""``assess`` on every example: the JSON validates against the published schema, carries the
knowledge stamp, and every citation resolves in the bibliography."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.adapters.schemas import assessment_schema
from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.domain.vocabulary import Context
from cmvcds.knowledge import Knowledge

from .conftest import TODAY

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CASES = [p for p in EXAMPLES if p.name != "settings.yaml"]
SCHEMA = assessment_schema()
#: The module (``cmvcds.assess`` the attribute is the function of the same name).
assess_module = importlib.import_module("cmvcds.assess")
runner = CliRunner()


def _validate(document: dict[str, Any], knowledge: Knowledge) -> None:
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert document["knowledge"] == knowledge.stamp()
    for section in ("decisions", "regimens", "schedule", "alerts"):
        for item in document[section]:
            for source_id in item["citations"]:
                assert source_id in knowledge.sources, f"{section}: unknown source {source_id}"


def test_published_schema_file_is_current() -> None:
    on_disk = json.loads((ROOT / "docs" / "schema" / "assessment.schema.json").read_text())
    assert on_disk == SCHEMA, "run python tools/render_schemas.py"


def test_there_is_an_example_per_context() -> None:
    contexts = {yaml.safe_load(p.read_text())["context"] for p in CASES}
    assert contexts == {c.value for c in Context}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_example_assessment_validates(path: Path, knowledge: Knowledge) -> None:
    settings = (
        ["--settings", str(ROOT / "examples" / "settings.yaml")]
        if (ROOT / "examples" / "settings.yaml").exists()
        else []
    )
    result = runner.invoke(app, ["assess", str(path), "--format", "json", *settings])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    _validate(document, knowledge)
    assert document["decisions"], (
        "every assessment decides something, even if only insufficient_data"
    )


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_example_text_output(path: Path) -> None:
    result = runner.invoke(app, ["assess", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("cmvcds assessment — case ")
    assert "DECISIONS" in result.stdout


def test_every_context_has_a_pathway() -> None:
    """No context can fall through to an empty answer; every named pathway imports and is a
    function (they are imported on first use)."""
    assert all(assess_module.PATHWAYS.get(context) for context in Context)
    names = {n for names in assess_module.PATHWAYS.values() for n in names}
    assert all(callable(assess_module.pathway(n)) for n in names | set(assess_module.ALWAYS))


def test_schema_rejects_an_invented_alert_code(knowledge: Knowledge) -> None:
    """The schema is closed: a code outside the vocabulary cannot pass as valid output."""
    case = parse_case(
        {"id": "x", "assessed_on": "2026-03-02", "context": "hiv"}, knowledge, today=TODAY
    )
    document = assess(case, knowledge).to_dict()
    document["alerts"] = [{"code": "made-up", "severity": "info", "message": "m", "citations": []}]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


#: What each example means clinically: its decisions and regimens (drug, dose mg, every h).
#: A change here is a change of clinical answer and must be deliberate.
EXPECTED = {
    # seed 001: continued beyond 6 months -> a specialist's decision with the weight-correct dose
    # (16 mg/kg x 7.0 kg = 112 mg q12h), not a bare "stop now" (issue 14 item 6)
    "congenital-long-course": (
        {"valganciclovir-congenital": "specialist_review", "resistance-genotyping": "recommended"},
        [("valganciclovir", 112, 12)],
    ),
    "congenital": ({"valganciclovir-congenital": "recommended"}, [("valganciclovir", 51.2, 12)]),
    "hiv-retinitis-maintenance": (
        {
            "antiviral-prophylaxis": "not_indicated",
            "preemptive-therapy": "not_indicated",
            "antiviral-treatment": "not_indicated",
        },
        [],
    ),
    "hiv-retinitis": (
        {
            "antiviral-prophylaxis": "not_indicated",
            "preemptive-therapy": "not_indicated",
            "antiviral-treatment": "recommended",
        },
        # zone-1 sight-threatening retinitis: oral induction plus intravitreal ganciclovir or
        # foscarnet (US HIV OI guideline, rule H3)
        [("valganciclovir", 900, 12), ("ganciclovir", 2, None), ("foscarnet", 2.4, None)],
    ),
    "immunocompetent-mononucleosis": ({"antiviral-treatment": "not_indicated"}, []),
    "immunocompetent-pregnant": (
        {"antiviral-treatment": "not_indicated", "valacyclovir-prevention": "recommended"},
        [("valacyclovir", 2000, 6)],
    ),
    "immunocompromised-colitis": (
        {"antiviral-prophylaxis": "not_indicated", "antiviral-treatment": "recommended"},
        [("valganciclovir", 900, 12)],
    ),
    "pregnancy-excluded-renal": ({"valacyclovir-prevention": "excluded"}, []),
    "pregnancy-fetal-treatment": (
        {"valacyclovir-prevention": "not_indicated", "valacyclovir-fetal-treatment": "recommended"},
        [("valacyclovir", 2000, 6)],
    ),
    "pregnancy-non-primary": ({"valacyclovir-prevention": "not_indicated"}, []),
    "pregnancy": ({"valacyclovir-prevention": "recommended"}, [("valacyclovir", 2000, 6)]),
    "transplant-hsct-letermovir": (
        {"antiviral-prophylaxis": "recommended", "preemptive-therapy": "recommended"},
        [("letermovir", 240, 24)],
    ),
    "transplant-kidney-dposrneg": (
        {"antiviral-prophylaxis": "recommended", "preemptive-therapy": "not_indicated"},
        [("valganciclovir", 450, 24)],
    ),
    "transplant-refractory": (
        {
            "antiviral-prophylaxis": "not_indicated",
            "preemptive-therapy": "not_indicated",
            "antiviral-treatment": "recommended",
            "resistance-genotyping": "not_indicated",
        },
        [("ganciclovir", 700, 12)],
    ),
}


def test_every_example_has_its_expected_answer() -> None:
    assert {p.stem for p in CASES} == set(EXPECTED)


#: The settings an example may name as missing when run without a settings file: those no
#: guideline gives a value for (the reference profile has no default for them).
NO_GUIDELINE_VALUE = {"setting:pet_threshold_iu_ml.hsct", "setting:pet_threshold_iu_ml.sot"}


@pytest.mark.parametrize("site", ["site-settings", "reference-profile"])
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_example_clinical_answer(path: Path, site: str) -> None:
    # The same clinical answer with the example site's settings and with none (issue 14 item 1:
    # the reference profile fills what the site has not chosen; `make run` needs no settings).
    settings = (
        ["--settings", str(ROOT / "examples" / "settings.yaml")] if site == "site-settings" else []
    )
    result = runner.invoke(
        app, ["assess", str(path), "--format", "json", *settings], env={"CMVCDS_SETTINGS": ""}
    )
    document = json.loads(result.stdout)
    decisions = {d["id"]: d["outcome"] for d in document["decisions"]}
    regimens = [(r["drug"], r["dose_mg"], r["every_h"]) for r in document["regimens"]]
    assert (decisions, regimens) == EXPECTED[path.stem]
    assert "insufficient_data" not in decisions.values()
    if site == "reference-profile":
        assert {m["item"] for m in document["missing"]} <= NO_GUIDELINE_VALUE
        assert all(u["origin"] == "reference-profile" for u in document["settings_detail"])
    else:
        assert all(u["origin"] == "site" for u in document["settings_detail"])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_every_example_decision_cites_a_source(path: Path, knowledge: Knowledge) -> None:
    # issue 14 item 7: also a decision that ends in insufficient_data or specialist_review.
    for settings in ([], ["--settings", str(ROOT / "examples" / "settings.yaml")]):
        result = runner.invoke(
            app, ["assess", str(path), "--format", "json", *settings], env={"CMVCDS_SETTINGS": ""}
        )
        for d in json.loads(result.stdout)["decisions"]:
            assert d["citations"], f"{path.stem}: {d['id']} ({d['outcome']}) cites nothing"
            assert all(c in knowledge.sources for c in d["citations"])
