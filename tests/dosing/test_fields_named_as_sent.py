"""The dose calculator names a refused value by the field the user sent (probe8 R3): its patient
fields and flags become a case, and the case's paths ("observations[0].value: 0.01 mg/dL is
implausible") named fields the user never sent. The value's limits are the pack's plausibility
rows (creatinine 0.1–20 mg/dL, weight up to 350 kg); the creatinine's date is the calculator's
own (today), so a problem with it is not shown beside the birth date's."""

from __future__ import annotations

from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app

runner = CliRunner()
ADULT = ["--drug", "valganciclovir", "--indication", "induction", "--sex", "male"]


def test_the_cli_names_the_flag() -> None:
    for flags, said in [
        (["--age", "54", "--weight-kg", "80", "--creatinine", "0.01"],
         "--creatinine: 0.01 mg/dL is implausible for creatinine (accepted range 0.1–20 mg/dL)"),
        (["--age", "54", "--weight-kg", "900", "--creatinine", "1"],
         "--weight-kg: 900 kg is implausible (accepted range"),
        (["--birth-date", "2030-01-01", "--weight-kg", "8", "--creatinine", "0.3"],
         "--birth-date: 2030-01-01 is after assessed_on"),
    ]:  # fmt: skip
        result = runner.invoke(app, ["dose", *ADULT, *flags])
        assert result.exit_code == 2, result.output
        assert said in result.output
        assert "observations[" not in result.output

