"""``cmvcds dose``: flags or a case file, JSON and the pharmacist's text, exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.adapters.schemas import dose_schema

runner = CliRunner()
FLAGS = ["--age", "50", "--sex", "male", "--weight-kg", "70", "--creatinine", "1.5"]


def test_flags_json_valganciclovir_induction() -> None:
    result = runner.invoke(
        app,
        [
            "dose",
            "--drug",
            "valganciclovir",
            "--indication",
            "induction",
            *FLAGS,
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, dose_schema())
    assert document["renal"]["crcl_ml_min"] == 58.33  # 90 × 70 / (72 × 1.5)
    assert (document["regimen"]["dose_mg"], document["regimen"]["every_h"]) == (450, 12)
    assert document["regimen"]["then"]["every_h"] == 24


def test_text_shows_formula_inputs_band_row_and_source() -> None:
    result = runner.invoke(
        app, ["dose", "--drug", "valganciclovir", "--indication", "induction", *FLAGS]
    )
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "Renal function: cockcroft-gault 58.33 mL/min" in text
    assert "formula: (140 − age) × weight / (72 × creatinine)" in text
    assert "inputs: age 50 y, weight 70 kg (actual), creatinine 1.5 mg/dL, sex male" in text
    assert "band: CrCl ≥ 40 and < 60 mL/min" in text
    assert (
        "table row: valganciclovir/induction-adult — CrCl ≥ 40 and < 60 mL/min — §2.5 Table 2"
        in text
    )
    assert "[valcyte-us-label]" in text


def test_umol_per_litre_flag_gives_the_same_dose() -> None:
    args = [
        "dose",
        "--drug",
        "ganciclovir",
        "--indication",
        "induction",
        "--age",
        "50",
        "--sex",
        "male",
        "--weight-kg",
        "70",
        "--format",
        "json",
    ]
    mg = json.loads(runner.invoke(app, [*args, "--creatinine", "1.5"]).stdout)
    umol = json.loads(
        runner.invoke(app, [*args, "--creatinine", "132.6", "--creatinine-unit", "umol/L"]).stdout
    )
    assert mg == umol


def test_foscarnet_regimen_and_crcl_per_kg() -> None:
    result = runner.invoke(
        app,
        [
            "dose",
            "--drug",
            "foscarnet",
            "--indication",
            "induction",
            "--regimen",
            "90-q12h",
            "--age",
            "68",
            "--sex",
            "female",
            "--weight-kg",
            "70",
            "--creatinine",
            "0.85",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["renal"]["crcl_ml_min_kg"] == 1.0
    assert (document["regimen"]["dose_mg_per_kg"], document["regimen"]["every_h"]) == (50, 12)


def test_letermovir_with_cyclosporine_flag() -> None:
    result = runner.invoke(
        app,
        [
            "dose",
            "--drug",
            "letermovir",
            "--indication",
            "prophylaxis",
            "--organ",
            "hsct",
            "--age",
            "45",
            "--weight-kg",
            "70",
            "--co-medication",
            "cyclosporine",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["regimen"]["dose_mg"] == 240


def test_case_file(tmp_path: Path) -> None:
    case = tmp_path / "infant.yaml"
    case.write_text(
        "format: cmvcds-case/1\nid: infant\nassessed_on: 2026-03-02\ncontext: congenital\n"
        "patient: {sex: male, birth_date: 2026-02-20, weight_kg: 3.2}\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        [
            "dose",
            str(case),
            "--drug",
            "valganciclovir",
            "--indication",
            "congenital",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    regimen = json.loads(result.stdout)["regimen"]
    assert (regimen["dose_mg"], regimen["oral_solution_ml"]) == (51.2, 1.02)  # 16 × 3.2; 51.2 / 50


def test_bad_input_exits_2() -> None:
    implausible = runner.invoke(
        app, ["dose", "--drug", "valganciclovir", "--indication", "induction", "--weight-kg", "700"]
    )
    assert implausible.exit_code == 2
    assert "700 kg is implausible" in implausible.stderr
    unknown = runner.invoke(app, ["dose", "--drug", "aspirin", "--indication", "induction", *FLAGS])
    assert unknown.exit_code == 2
    assert "no dosing table for drug 'aspirin'" in unknown.stderr
    regimen = runner.invoke(
        app, ["dose", "--drug", "foscarnet", "--indication", "induction", "--regimen", "99", *FLAGS]
    )
    assert regimen.exit_code == 2
    assert "offered: 60-q8h, 90-q12h" in regimen.stderr
    no_drug = runner.invoke(app, ["dose", "--indication", "induction", *FLAGS])
    assert no_drug.exit_code == 2
