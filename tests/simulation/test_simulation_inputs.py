"""The screening simulation refuses what it cannot do honestly, and counts non-primary outcomes.

Defects found by an outside tester (issue 21): outcomes after non-primary maternal infection were
near zero; huge sizes grew memory without bound; ``--set`` accepted impossible values; an empty
strategy list and descending repeat weeks were accepted; an unreachable Dask scheduler ended as an
internal error after 30 s.
"""

from __future__ import annotations

import math
import socket
import time

import pytest
from typer.testing import CliRunner

from cmvcds.adapters.cli import simulate as cli_simulate
from cmvcds.adapters.cli.main import app
from cmvcds.errors import InputError
from cmvcds.knowledge import load_knowledge
from cmvcds.simulation import run, simulate
from cmvcds.simulation.clinic import Clinic
from cmvcds.simulation.cohort import DRAWS
from cmvcds.simulation.course import Woman, follow
from cmvcds.simulation.parameters import base_inputs, parameter_rows
from cmvcds.simulation.strategies import STRATEGIES

KNOWLEDGE = load_knowledge()
BASE = base_inputs(KNOWLEDGE)
ROWS = {r.id: r for r in parameter_rows(KNOWLEDGE)}


def _nonprimary(**given: float) -> Woman:
    """A seropositive woman whose fetus is infected (non-primary), no ultrasound signs."""
    u = {name: 0.5 for name in DRAWS} | {"nonprimary": 0.0, "ultrasound": 0.99} | given
    return Woman(True, math.nan, 10, u)


# --- outcomes after non-primary maternal infection -------------------------------------------


def test_nonprimary_rows_carry_the_published_figures() -> None:
    """Ross 2006 (J Pediatr 148:332): hearing loss 10% after non-primary vs 11% after primary;
    Mussi-Pinhata 2009 (CID, near-universal immunity): symptomatic "Seven (8.1%; 95%CI: 3.3-15.9)",
    SNHL 5/58 = 8.6% (2.9-19.0); Maltezou 2020 (JCV meta-analysis): symptomatic OR 0.83."""
    symptomatic, sequelae = ROWS["symptomatic_nonprimary"], ROWS["sequelae_nonprimary"]
    assert (symptomatic.base, symptomatic.low, symptomatic.high) == (0.081, 0.033, 0.159)
    assert (sequelae.base, sequelae.low, sequelae.high) == (0.10, 0.029, 0.19)
    assert "ross2006-jpediatr-nonprimary-hearing" in sequelae.citations
    assert "maltezou2020-jcv-maternal-type-sequelae" in symptomatic.citations
    # Faure-Bardon 2019 (2nd/3rd-trimester primary infections) is not a source for non-primary
    assert "faurebardon2019-cid-first-trimester-sequelae" not in sequelae.citations
    # far above the 2nd/3rd-trimester primary rows, not above first-trimester primary infection
    assert BASE["symptomatic_later"] < symptomatic.low < symptomatic.base <= BASE["symptomatic_first_trimester"]
    assert BASE["sequelae_later"] < sequelae.low < sequelae.base <= BASE["sequelae_first_trimester"]


@pytest.mark.parametrize(
    ("symptomatic_u", "sequelae_u", "expected"),
    [(0.05, 0.05, (1, 1)), (0.0809, 0.0999, (1, 1)), (0.081, 0.10, (0, 0)), (0.09, 0.09, (0, 1)), (0.5, 0.5, (0, 0))],
)
def test_an_infected_fetus_after_nonprimary_infection_has_the_nonprimary_risks(
    symptomatic_u: float, sequelae_u: float, expected: tuple[int, int]
) -> None:
    """Risk 8.1% symptomatic and 10% sequelae: a draw below the risk is affected, at it is not."""
    course = follow(_nonprimary(symptomatic=symptomatic_u, sequelae=sequelae_u), STRATEGIES["no-screening"], BASE, Clinic(KNOWLEDGE))
    assert course.fetal_infection == 1
    assert (course.symptomatic, course.sequelae) == expected


def test_the_later_primary_rows_do_not_reach_nonprimary_infection() -> None:
    clinic, strategy = Clinic(KNOWLEDGE), STRATEGIES["no-screening"]
    woman = _nonprimary(symptomatic=0.5, sequelae=0.5)
    later_only = {**BASE, "symptomatic_later": 1.0, "sequelae_later": 1.0, "symptomatic_nonprimary": 0.0, "sequelae_nonprimary": 0.0}
    assert (follow(woman, strategy, later_only, clinic).symptomatic, follow(woman, strategy, later_only, clinic).sequelae) == (0, 0)
    nonprimary_only = {**BASE, "symptomatic_later": 0.0, "sequelae_later": 0.0, "symptomatic_nonprimary": 1.0, "sequelae_nonprimary": 1.0}
    course = follow(woman, strategy, nonprimary_only, clinic)
    assert (course.symptomatic, course.sequelae) == (1, 1)


def test_cohort_sequelae_follow_the_nonprimary_rate() -> None:
    """Without primary infections every sequela is non-primary: none when its rate is 0."""
    no_primary = {"primary_incidence": 0.0, "preconception_incidence": 0.0}
    none = simulate(["no-screening"], n=20_000, seed=3, inputs={**no_primary, "sequelae_nonprimary": 0.0}, knowledge=KNOWLEDGE)
    some = simulate(["no-screening"], n=20_000, seed=3, inputs={**no_primary, "sequelae_nonprimary": 1.0}, knowledge=KNOWLEDGE)
    assert none.base["no-screening"]["primary_infections"] == 0
    assert none.base["no-screening"]["sequelae"] == 0
    # every infected fetus then has sequelae: as many as fetal infections carried to birth
    assert some.base["no-screening"]["sequelae"] > 0


# --- sizes --------------------------------------------------------------------------------


def test_sizes_past_the_maximum_are_refused_before_any_work() -> None:
    started = time.monotonic()
    with pytest.raises(InputError, match="maximum of 5,000,000"):
        simulate(n=1_000_000_000_000, knowledge=KNOWLEDGE)
    with pytest.raises(InputError, match="maximum of 10,000"):
        simulate(n=10, psa_draws=10_001, knowledge=KNOWLEDGE)
    with pytest.raises(InputError, match="in all"):
        simulate(n=10, psa_draws=1_000, psa_n=1_000_000, knowledge=KNOWLEDGE)
    assert time.monotonic() - started < 5


def test_the_maximum_itself_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "MAX_PREGNANCIES", 200)
    assert simulate(["no-screening"], n=200, psa_n=200, tornado_n=200, knowledge=KNOWLEDGE).n == 200
    with pytest.raises(InputError, match="above the maximum of 200"):
        simulate(["no-screening"], n=201, psa_n=200, tornado_n=200, knowledge=KNOWLEDGE)


def test_cli_refuses_a_huge_cohort_with_exit_2() -> None:
    done = CliRunner().invoke(app, ["simulate", "--n", "1000000000000"])
    assert done.exit_code == 2 and "maximum" in done.output


def test_progress_is_reported_per_chunk(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[int, int]] = []
    simulate(["no-screening"], n=300, knowledge=KNOWLEDGE, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 1)]
    for done in range(1, 41):
        cli_simulate._progress(done, 40)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 10 and lines[-1] == "simulate: 40 of 40 chunks done (100%)"
    cli_simulate._progress(1, 5)  # short runs stay quiet
    assert capsys.readouterr().err == ""


# --- --set and the other options ----------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "parameter"),
    [
        ("valacyclovir_odds_ratio=-1", "valacyclovir_odds_ratio"),
        ("valacyclovir_odds_ratio=0", "valacyclovir_odds_ratio"),
        ("in_utero_treatment_relative_risk=0", "in_utero_treatment_relative_risk"),
        ("igm_sensitivity=1.5", "igm_sensitivity"),
        ("testing_uptake=3", "testing_uptake"),
        ("seroprevalence=-2", "seroprevalence"),
        ("cost_avidity=-0.01", "cost_avidity"),
        ("qaly_loss_sequelae=-1", "qaly_loss_sequelae"),
        ("igm_persistence_weeks=-1", "igm_persistence_weeks"),
        ("seroprevalence=nan", "seroprevalence"),
        ("cost_amniocentesis=inf", "cost_amniocentesis"),
    ],
)
def test_cli_refuses_an_impossible_setting_naming_it(setting: str, parameter: str) -> None:
    done = CliRunner().invoke(app, ["simulate", "--set", setting, "--n", "10"])
    assert done.exit_code == 2, done.output
    assert parameter in done.output


@pytest.mark.parametrize("setting", ["igm_sensitivity=1", "testing_uptake=0", "cost_avidity=0", "valacyclovir_odds_ratio=1"])
def test_settings_at_the_edge_of_their_kind_are_accepted(setting: str) -> None:
    done = CliRunner().invoke(app, ["simulate", "--set", setting, "--strategies", "first-trimester", "--n", "10"])
    assert done.exit_code == 0, done.output


def test_the_python_api_checks_settings_too() -> None:
    with pytest.raises(InputError, match="probability") as raised:
        simulate(n=10, inputs={"igm_sensitivity": 1.5}, knowledge=KNOWLEDGE)
    assert raised.value.field == "igm_sensitivity"


@pytest.mark.parametrize("names", ["", ",", " , "])
def test_an_empty_strategy_list_is_refused(names: str) -> None:
    done = CliRunner().invoke(app, ["simulate", "--strategies", names, "--n", "10"])
    assert done.exit_code == 2 and "no strategy given" in done.output


@pytest.mark.parametrize("weeks", ["10,5", "16,16", "12,20,18"])
def test_repeat_weeks_out_of_order_are_refused(weeks: str) -> None:
    done = CliRunner().invoke(app, ["simulate", "--strategies", "repeated", "--repeat-weeks", weeks, "--n", "10"])
    assert done.exit_code == 2 and "ascending" in done.output


def test_ascending_repeat_weeks_are_used() -> None:
    result = simulate(["repeated"], n=10, repeat_weeks=(14, 20), knowledge=KNOWLEDGE)
    assert result.strategies[1].repeat_weeks == (14, 20)


def test_an_unreachable_scheduler_is_an_input_error_naming_it() -> None:
    with socket.socket() as s:  # a port on which nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    started = time.monotonic()
    done = CliRunner().invoke(app, ["simulate", "--scheduler", address, "--n", "10"])
    assert done.exit_code == 2, done.output
    assert address in done.output and "internal error" not in done.output
    assert time.monotonic() - started < 20
