"""The Law 648/96 dossier (HTML) and the ``cmvcds dossier`` command."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from pregnancy_cases import BASELINE, TODAY, case, run
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.adapters.report.dossier import dossier_html
from cmvcds.domain.case import parse_case
from cmvcds.knowledge import Knowledge

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_dossier_documents_the_decision(knowledge: Knowledge) -> None:
    html = dossier_html(
        run(knowledge, BASELINE),
        parse_case(copy.deepcopy(BASELINE), knowledge, today=TODAY),
        knowledge,
    )
    for text in (
        "Law 648/96 dossier",
        "valacyclovir-prevention",
        ">recommended<",
        "(a) CMV IgG seroconversion",
        "2026-01-11 to 2026-02-20",
        "valacyclovir 2000 mg oral every 6 h (8000 mg/day) from 2026-03-02 to 2026-06-20",
        "2026-05-10",
        "Written informed consent signed by the patient",
        "GFR 118 (eGFR, reported on 2026-02-20)",
        "[aifa2020-648-valacyclovir] <cite>Agenzia Italiana del Farmaco",  # a title, in its language
        "Prescribing physician",
    ):
        assert text in html, text


def test_dossier_escapes_case_text(knowledge: Knowledge) -> None:
    raw = case(id="<script>x</script>")
    html = dossier_html(run(knowledge, raw), parse_case(raw, knowledge, today=TODAY))
    assert "<script>x" not in html
    assert "&lt;script&gt;" in html


def test_dossier_command_on_every_pregnancy_example(tmp_path: Path) -> None:
    runner = CliRunner()
    for example in sorted(EXAMPLES.glob("pregnancy*.yaml")):
        out = tmp_path / f"{example.stem}.html"
        result = runner.invoke(app, ["dossier", str(example), "--output", str(out)])
        assert result.exit_code == 0, result.output
        assert "Law 648/96 dossier" in out.read_text(encoding="utf-8")


def test_dossier_refuses_other_contexts(tmp_path: Path) -> None:
    other = tmp_path / "case.yaml"
    other.write_text(
        "format: cmvcds-case/1\nid: x\nassessed_on: 2026-03-02\ncontext: congenital\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["dossier", str(other)])
    assert result.exit_code == 2
    assert "the 648/96 dossier is for pregnancy cases" in result.output


def test_assess_on_every_pregnancy_example() -> None:
    runner = CliRunner()
    for example in sorted(EXAMPLES.glob("pregnancy*.yaml")):
        result = runner.invoke(app, ["assess", str(example)])
        assert result.exit_code == 0, result.output
        assert "valacyclovir-prevention" in result.output
        doc = json.loads(runner.invoke(app, ["assess", str(example), "--format", "json"]).output)
        cited = [*doc["decisions"], *doc["regimens"], *doc["schedule"]]
        assert cited and all(item["citations"] for item in cited), example.name


def test_dossier_shows_a_computed_egfr_as_information(knowledge: Knowledge) -> None:
    # Creatinine 1.1 mg/dL, no eGFR reported: CKD-EPI 2021 ≈ 68 is printed, not used (I-4).
    raw = case()
    raw["observations"] = [
        o for o in raw["observations"] if o["code"] not in ("creatinine", "egfr")
    ]
    raw["observations"].append(
        {"date": "2026-02-20", "code": "creatinine", "value": 1.1, "unit": "mg/dL"}
    )
    html = dossier_html(run(knowledge, raw), parse_case(raw, knowledge, today=TODAY), knowledge)
    assert (
        "creatinine 1.1 mg/dL (2026-02-20);\nGFR not reported (computed 68 mL/min/1.73 m²: CKD-EPI 2021 "
        "from creatinine 1.10 mg/dL of 2026-02-20, age 33, female; not validated in pregnancy (I-4))."
    ) in html
    assert ">insufficient data<" in html
