"""The OpenAPI promises what the validators accept: the patient's numbers carry the parser's
plausible ranges (from the knowledge, not restated in code), numbers are never text, and the
request models carry the bounds the routes enforce."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.core import PlausibilityLimits


def _number(schema: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in schema["anyOf"] if b.get("type") == "number")


def test_patient_numbers_carry_the_plausible_ranges(
    client: TestClient, knowledge: Knowledge
) -> None:
    limits = knowledge.table("plausibility", PlausibilityLimits)
    components = client.get("/openapi.json").json()["components"]["schemas"]
    for model in ("DosePatient", "CasePatient"):
        weight = _number(components[model]["properties"]["weight_kg"])
        assert (weight["minimum"], weight["maximum"]) == tuple(float(v) for v in limits.weight_kg)
        assert all(
            b.get("type") != "string" for b in components[model]["properties"]["weight_kg"]["anyOf"]
        )
    value = components["CaseObservation"]["properties"]["value"]["anyOf"]
    assert {b.get("type") for b in value} == {"number", "null"}  # "64" is refused: not text
    mutations = components["ResistanceRequest"]["properties"]["mutations"]["anyOf"][0]
    assert mutations["maxItems"] == 1000 and mutations["items"]["maxLength"] == 60


def test_the_validators_agree_at_the_bound(client: TestClient, knowledge: Knowledge) -> None:
    high = float(knowledge.table("plausibility", PlausibilityLimits).weight_kg[1])
    for weight, refused in [(high, False), (high + 0.1, True)]:
        response = client.post(
            "/api/v1/dose",
            json={
                "drug": "valganciclovir",
                "indication": "induction",
                "patient": {"age_years": 40, "sex": "male", "weight_kg": weight, "height_cm": 180},
            },
        )
        said_weight = "patient.weight_kg" in response.text
        assert said_weight is refused, response.text
