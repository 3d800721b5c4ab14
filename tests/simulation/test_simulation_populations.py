"""Seroprevalence by region and age band (``simulation_seroprevalence``, ``--population``) and
the PDF report of ``cmvcds simulate`` (issue 21)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.errors import InputError
from cmvcds.knowledge import load_knowledge
from cmvcds.knowledge.schemas.simulation import SeroprevalenceTable
from cmvcds.simulation import simulate
from cmvcds.simulation.parameters import base_inputs, draw_inputs, parameter_rows, varied

KNOWLEDGE = load_knowledge()
POPULATIONS = {p.id: p for p in KNOWLEDGE.table("simulation_seroprevalence", SeroprevalenceTable).populations}


def test_the_rows_carry_the_figures_read_in_their_sources() -> None:
    """Apulia 2016-2019 (abstract, PMID 34604575): 70.8 % overall, 44.4 % seronegative under 25,
    80.6 % at 40 and over; Legnano 68.3 % (95 % CI 66.6-70.0); Singapore 71.7 % (0.67-0.76)."""
    got = {pid: (p.base, p.low, p.high) for pid, p in POPULATIONS.items()}
    assert got["lombardy-legnano"] == (0.683, 0.666, 0.700)
    assert got["apulia"][0] == 0.708 and got["apulia-40-plus"][0] == 0.806
    assert got["apulia-under-25"][0] == pytest.approx(1 - 0.444)
    assert got["singapore"] == (0.717, 0.67, 0.76)
    assert [p.country for p in POPULATIONS.values()][:4] == ["IT"] * 4  # Italian data first
    assert not any(POPULATIONS[pid].verified for pid in ("apulia", "apulia-under-25", "apulia-40-plus"))


def test_the_default_population_is_the_seroprevalence_row() -> None:
    legnano = POPULATIONS["lombardy-legnano"]
    row = {p.id: p for p in parameter_rows(KNOWLEDGE)}["seroprevalence"]
    assert (row.base, row.low, row.high) == (legnano.base, legnano.low, legnano.high)


def test_a_population_replaces_the_seroprevalence_its_range_and_its_sources() -> None:
    rows = {p.id: p for p in parameter_rows(KNOWLEDGE, "apulia-under-25")}
    assert base_inputs(KNOWLEDGE, "apulia-under-25")["seroprevalence"] == pytest.approx(0.556)
    assert rows["seroprevalence"].citations == ("jpmh2021-apulia-seroprevalence",)
    assert not rows["seroprevalence"].verified
    assert "seroprevalence" in {p.id for p in varied(KNOWLEDGE, "apulia-under-25")}
    draws = [draw_inputs(KNOWLEDGE, np.random.default_rng(i), "apulia-under-25")["seroprevalence"] for i in range(300)]
    assert 0.50 < float(np.mean(draws)) < 0.61  # centred on 55.6 %, not on the default 68.3 %
    others = [k for k in base_inputs(KNOWLEDGE) if k != "seroprevalence"]
    assert {k: base_inputs(KNOWLEDGE, "apulia")[k] for k in others} == {k: base_inputs(KNOWLEDGE)[k] for k in others}


def test_younger_women_have_more_primary_infections_with_the_same_draws() -> None:
    """Common random numbers: a lower seroprevalence leaves every woman seronegative who was, and
    more; so primary infections can only rise (55.6 % vs 80.6 % seropositive: about 2.3 times)."""
    young = simulate(["first-trimester"], n=10_000, seed=4, population="apulia-under-25")
    older = simulate(["first-trimester"], n=10_000, seed=4, population="apulia-40-plus")
    y, o = (r.base["no-screening"]["primary_infections"] or 0 for r in (young, older))
    assert y > o > 0
    assert 1.6 < y / o < 3.2  # (1 - 0.556) / (1 - 0.806) = 2.29, with sampling noise
    assert young.to_dict()["population"] == "apulia-under-25"
    assert young.inputs["seroprevalence"] == pytest.approx(0.556)


def test_an_unknown_population_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"unknown population 'lazio'.*apulia-under-25"):
        simulate(["first-trimester"], n=10, population="lazio")
    result = CliRunner().invoke(app, ["simulate", "--n", "10", "--population", "lazio"])
    assert result.exit_code == 2 and "lombardy-legnano" in result.output


def test_cli_prints_the_report_to_pdf_with_chromium(tmp_path: Path) -> None:
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian chromium is missing: run tools/ensure_chromium.sh")
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(app, [
        "simulate", "--strategies", "first-trimester", "--n", "2000", "--seed", "3",
        "--population", "apulia", "--format", "pdf", "-o", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
