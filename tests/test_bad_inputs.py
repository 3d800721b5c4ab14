"""Every malformed case in ``tests/bad_inputs/`` is refused by the CLI: exit code 2, one-line
errors on stderr, the first naming the field (given in the file's ``# field:`` header) and the
problem (``# expect:``), and never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app

BAD = sorted((Path(__file__).parent / "bad_inputs").glob("*.yaml"))
runner = CliRunner()


def _header(path: Path, key: str) -> str:
    match = re.search(rf"^# {key}: (.+)$", path.read_text(), re.MULTILINE)
    assert match, f"{path.name} lacks its '# {key}:' header"
    return match.group(1).strip()


def test_there_are_at_least_25() -> None:
    assert len(BAD) >= 25


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_refused_with_field_and_exit_code_2(path: Path) -> None:
    result = runner.invoke(app, ["assess", str(path), "--format", "json"])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    field, expect = _header(path, "field"), _header(path, "expect")
    assert any(line.startswith(f"error: {field}") and expect in line for line in lines), lines
    assert "Traceback" not in result.stderr


def test_validate_lists_every_problem(tmp_path: Path) -> None:
    case = tmp_path / "two-problems.yaml"
    text = (BAD[0].parent / "16-creatinine-unit-mg.yaml").read_text()
    case.write_text(text.replace("weight_kg: 64", "weight_kg: 640"))
    result = runner.invoke(app, ["validate", str(case)])
    assert result.exit_code == 2
    problems = result.stderr.strip().splitlines()
    assert len(problems) == 2
    assert any("patient.weight_kg" in p for p in problems)
    assert any("observations[3].unit" in p for p in problems)


def test_real_process_prints_no_traceback() -> None:
    """The installed command, as a user runs it: one line, exit code 2."""
    path = next(p for p in BAD if "creatinine-implausible-high" in p.name)
    done = subprocess.run(
        [sys.executable, "-m", "cmvcds", "assess", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: observations[3].value: 40 mg/dL is implausible for creatinine (accepted range 0.1–20 mg/dL)"
    )
