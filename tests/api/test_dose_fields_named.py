"""The dose API names a refused value by the patient field sent (probe8 R3; the CLI's flags:
tests/dosing/test_fields_named_as_sent.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_api_names_the_patient_field(client: TestClient) -> None:
    for patient, field, said in [
        ({"age_years": 54, "sex": "male", "weight_kg": 80, "creatinine": 0.01},
         "patient.creatinine", "0.01 mg/dL is implausible for creatinine"),
        ({"birth_date": "2030-01-01", "sex": "male", "weight_kg": 8, "creatinine": 0.3},
         "patient.birth_date", "2030-01-01 is after assessed_on"),
    ]:  # fmt: skip
        response = client.post(
            "/api/v1/dose",
            json={"drug": "valganciclovir", "indication": "induction", "patient": patient},
        )
        assert response.status_code == 422
        errors = response.json()["errors"]
        assert [e["field"] for e in errors] == [field]
        assert said in errors[0]["message"]
