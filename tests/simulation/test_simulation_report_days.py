"""An out-of-range amniocentesis report delay is refused up front, by name (probe12 #6).

``--set amniocentesis_report_days=400`` was accepted, and a later run failed mid-way with
"gestational age 78+1 is implausible", which names no input; -7 was called "a weeks". Now the
CLI refuses each before any work, naming the input and in days; the bound is computed: the report
of an amniocentesis done the day before term must fall within the engine's plausible
gestational age (44+0, plausibility.yaml).
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.knowledge import load_knowledge
from cmvcds.simulation.parameters import report_days_max

REPORT_DAYS_MAX = report_days_max(load_knowledge())


@pytest.mark.parametrize(("value", "said"), [
    ("400", "400 days: an amniocentesis just before term would be reported past the plausible end of pregnancy, 44+0 (at most 29 days)"),
    (str(REPORT_DAYS_MAX + 1), f"{REPORT_DAYS_MAX + 1} days: an amniocentesis just before term"),
    ("-7", "a duration: -7 days cannot be negative"),
    ("7.5", "7.5 is not a whole number of days"),
])  # fmt: skip
def test_a_report_delay_out_of_range_is_refused_by_name(value: str, said: str) -> None:
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--n",
            "200",
            "--format",
            "json",
            "--set",
            f"amniocentesis_report_days={value}",
        ],
    )
    assert result.exit_code == 2
    assert f"amniocentesis_report_days: {said}" in result.output


def test_the_longest_report_delay_is_accepted() -> None:
    """The longest delay runs through, even with many late amniocenteses (high incidence)."""
    assert REPORT_DAYS_MAX == 308 - 279  # 44+0 (plausibility.yaml) less the day before term
    result = CliRunner().invoke(app, ["simulate", "--n", "5000", "--format", "json", "--set",
                                      f"amniocentesis_report_days={REPORT_DAYS_MAX}", "--set",
                                      "primary_incidence=0.15"])  # fmt: skip
    assert result.exit_code == 0, result.output
