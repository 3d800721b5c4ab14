"""The Law 648/96 dossier (HTML) and the ``cmvcds dossier`` command."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from pregnancy_cases import BASELINE, TODAY, case, run
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.adapters.report.dossier import dossier_html, refusal_html
from cmvcds.domain.case import parse_case
from cmvcds.errors import NotEligible
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


#: The pregnancy examples that qualify under the AIFA listing (Determina 16-12-2020): a primary
#: infection with onset before 24+0 and no exclusion (prevention), or an infected fetus with
#: mild/moderate signs (in-utero treatment).
QUALIFYING = ("pregnancy.yaml", "pregnancy-fetal-treatment.yaml")
#: Those that do not, with the outcome and the reason the listing gives: a non-primary infection
#: (high IgG avidity) is outside the indication (A1, A2); creatinine 1.24 mg/dL > 1.1 mg/dL is an
#: exclusion criterion (A7).
NOT_QUALIFYING = {
    "pregnancy-non-primary.yaml": ("not_indicated", "non-primary infection"),
    "pregnancy-excluded-renal.yaml": ("excluded", "> 1.1 mg/dL: excluded (rule A7)"),
}


def test_dossier_command_on_every_pregnancy_example(tmp_path: Path) -> None:
    runner = CliRunner()
    examples = sorted(e.name for e in EXAMPLES.glob("pregnancy*.yaml"))
    assert examples == sorted([*QUALIFYING, *NOT_QUALIFYING])  # a new example is classified here
    for name in QUALIFYING:
        out = tmp_path / f"{name}.html"
        result = runner.invoke(app, ["dossier", str(EXAMPLES / name), "--output", str(out)])
        assert result.exit_code == 0, result.output
        assert "Law 648/96 dossier" in out.read_text(encoding="utf-8")


def test_dossier_command_refuses_a_case_that_does_not_qualify(tmp_path: Path) -> None:
    """probe10 W1: the dossier of a non-primary infection and of a renal exclusion was written
    (exit 0) and looked valid. Now nothing is written; the exit code is 3 and the message names
    the outcome and its reasons."""
    runner = CliRunner()
    for name, (outcome, reason) in NOT_QUALIFYING.items():
        out = tmp_path / f"{name}.html"
        result = runner.invoke(app, ["dossier", str(EXAMPLES / name), "--output", str(out)])
        assert result.exit_code == 3, result.output
        assert not out.exists(), name
        assert "no Law 648/96 dossier" in result.output
        assert f"valacyclovir-prevention: {outcome} — " in result.output, name
        assert reason in result.output, name
        assert "Written informed consent" not in result.output


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


def test_no_dossier_without_a_gfr_and_the_refusal_says_what_is_needed(knowledge: Knowledge) -> None:
    # Creatinine 1.1 mg/dL, no eGFR reported: CKD-EPI 2021 ≈ 68 is printed, not used (I-4); the
    # decision is insufficient data, so no dossier is made: the page says the GFR is needed.
    raw = case()
    raw["observations"] = [
        o for o in raw["observations"] if o["code"] not in ("creatinine", "egfr")
    ]
    raw["observations"].append(
        {"date": "2026-02-20", "code": "creatinine", "value": 1.1, "unit": "mg/dL"}
    )
    document = run(knowledge, raw)
    parsed = parse_case(copy.deepcopy(raw), knowledge, today=TODAY)
    with pytest.raises(NotEligible) as refused:
        dossier_html(document, parsed, knowledge)
    assert "valacyclovir-prevention: insufficient_data — " in refused.value.problems[1]
    assert any(p.startswith("needed: egfr — no GFR reported") for p in refused.value.problems)
    html = refusal_html(document, parsed)
    assert 'data-outcome="insufficient_data"' in html
    assert '<li data-missing="egfr"><strong>egfr</strong>: no GFR reported' in html
    assert "CKD-EPI 2021 from the creatinine gives 68 mL/min/1.73 m², shown for information only" in html
    for printable in ("Written informed consent", "data-print=", "<form", "Quantity to dispense"):
        assert printable not in html, printable
