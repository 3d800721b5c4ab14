"""Every entry point refuses implausible input the same way (outside probe8 S1, W4).

The dose calculator is reached by ``POST /api/v1/dose``, the web form ``POST /dose`` and
``cmvcds dose``; each turns its fields into a case for the one parser, so an 18-day-old of 90 kg
(WHO weight-for-age: at most 10 kg below 92 days in ``core/plausibility.yaml``) is refused
whether the age is a birth date or ``age_years`` (before: 1,440 mg twice daily, 1.6 × the adult
900 mg dose of Valcyte label §2.5). A JSON boolean or a string is not a measurement.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app as cli
from tests.conftest import TODAY

INFANT_90KG = "90 kg is implausible at about 18 days of age"


def _dose(client: TestClient, patient: dict[str, Any], drug: str = "valganciclovir") -> Any:
    indication = "congenital" if drug == "valganciclovir" else "induction"
    return client.post(
        "/api/v1/dose", json={"drug": drug, "indication": indication, "patient": patient}
    )


@pytest.mark.parametrize(
    "age",
    [{"age_years": 0.05}, {"birth_date": str(TODAY - timedelta(days=18))}],
)
def test_api_refuses_an_infant_of_90_kg_whatever_the_age_form(
    client: TestClient, age: dict[str, Any]
) -> None:
    response = _dose(client, {**age, "sex": "male", "weight_kg": 90, "creatinine": 0.4})
    assert response.status_code == 422, response.text
    assert "90.0 kg is implausible at" in response.text
    assert "at most 10 kg below 92 days" in response.text
    assert "outcome" not in response.json()


def test_web_form_refuses_an_infant_of_90_kg(client: TestClient) -> None:
    page = client.post(
        "/dose",
        data={
            "drug": "valganciclovir",
            "indication": "congenital",
            "patient.age_years": "0.05",
            "patient.sex": "male",
            "patient.weight_kg": "90",
        },
    )
    assert INFANT_90KG in page.text
    assert 'id="instruction"' not in page.text  # no "Give … mg"


def test_cli_refuses_an_infant_of_90_kg() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "dose",
            "--drug",
            "valganciclovir",
            "--indication",
            "congenital",
            "--age",
            "0.05",
            "--sex",
            "male",
            "--weight-kg",
            "90",
        ],
    )
    assert result.exit_code == 2, result.output
    assert INFANT_90KG in result.output


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight_kg", True),
        ("weight_kg", "70"),
        ("creatinine", False),
        ("age_years", "50"),
        ("birth_date", 19700101),
    ],
)
def test_api_numbers_are_json_numbers(client: TestClient, field: str, value: Any) -> None:
    """``true`` was read as 1.0 kg (CrCl 0.83 mL/min, excluded) and "70" as 70 kg."""
    patient: dict[str, Any] = {"age_years": 50, "sex": "male", "weight_kg": 70, "creatinine": 1.5}
    patient.pop("age_years" if field == "birth_date" else field)
    patient[field] = value
    response = _dose(client, patient, drug="ganciclovir")
    assert response.status_code == 422, response.text
    assert f"patient.{field}" in response.text
    assert "not a number" in response.text or "not a date" in response.text


def test_api_foscarnet_on_creatinine_0_1_gives_no_dose(client: TestClient) -> None:
    """Cockcroft-Gault (140 − 50) × 70 / (72 × 0.1) = 875 mL/min: not a patient's clearance."""
    response = _dose(
        client, {"age_years": 50, "sex": "male", "weight_kg": 70, "creatinine": 0.1}, "foscarnet"
    )
    assert response.status_code == 200
    document = response.json()
    assert document["outcome"] == "insufficient_data"
    assert document["regimen"] is None
    (alert,) = [a for a in document["alerts"] if a["code"] == "implausible-input"]
    assert "875 mL/min" in alert["message"] and "200 mL/min" in alert["message"]


def test_api_pregnant_80_year_old_is_refused(client: TestClient) -> None:
    case = {
        "id": "p8-age",
        "assessed_on": str(TODAY),
        "context": "pregnancy",
        "patient": {"sex": "female", "birth_date": "1946-01-01"},
        "pregnancy": {"lmp": "2026-09-01"},
        "observations": [
            {"date": "2026-10-01", "code": "cmv_igg", "result": "negative"},
            {"date": "2026-11-01", "code": "cmv_igg", "result": "positive"},
        ],
    }
    response = client.post("/api/v1/assess", json=case)
    assert response.status_code == 422, response.text
    assert "a pregnancy at 80 years of age is implausible" in response.text
