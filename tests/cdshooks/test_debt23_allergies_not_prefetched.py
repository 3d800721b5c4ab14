"""A card says when allergies were not checked (debt23 item 5).

CDS Hooks 2.0.1 §Prefetch: a prefetch key the client leaves out is data the service does not
have (it may fetch it from ``fhirServer``); a key set to null is data the client could not get.
Either way no AllergyIntolerance reached the service, so its doses were not checked against
recorded allergies, and a clinician must not read the silence as "no allergy". An empty searchset
Bundle is the FHIR answer "none recorded" and needs no word. The services' prefetch template is
``AllergyIntolerance?patient={{context.patientId}}`` (adapters/cdshooks/services.py ALLERGIES).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

FIXTURES = Path(__file__).parent / "fixtures"
SAID = "allergies and intolerances were not checked"
SERVICES = [
    ("/cds-services/cmv-antiviral-dose-check", "antiviral-dose-check.request.json"),
    ("/cds-services/cmv-therapy-monitor", "therapy-monitor.request.json"),
    ("/cds-services/cmv-pregnancy-valacyclovir", "pregnancy-valacyclovir.request.json"),
]


def _request(name: str, allergies: str) -> dict[str, Any]:
    request: dict[str, Any] = copy.deepcopy(json.loads((FIXTURES / name).read_text("utf-8")))
    if allergies == "absent":
        del request["prefetch"]["allergies"]
    elif allergies == "null":
        request["prefetch"]["allergies"] = None
    else:
        assert request["prefetch"]["allergies"]["entry"] == []  # the fixture: none recorded
    request.pop("fhirServer", None)  # nothing to fetch it from
    return request


def _saying(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in cards if SAID in c.get("detail", "")]


@pytest.mark.parametrize(("path", "fixture"), SERVICES, ids=[s[1].split(".")[0] for s in SERVICES])
@pytest.mark.parametrize("allergies", ["absent", "null"])
def test_no_allergy_data_is_said_on_a_warning_card(
    client: TestClient, path: str, fixture: str, allergies: str
) -> None:
    response = client.post(path, json=_request(fixture, allergies))
    assert response.status_code == 200, response.text
    (card,) = _saying(response.json()["cards"])
    assert card["indicator"] == "warning"
    assert "AllergyIntolerance: not prefetched and not fetched" in card["detail"]


@pytest.mark.parametrize(("path", "fixture"), SERVICES, ids=[s[1].split(".")[0] for s in SERVICES])
def test_an_empty_bundle_means_none_recorded_and_says_nothing(
    client: TestClient, path: str, fixture: str
) -> None:
    response = client.post(path, json=_request(fixture, "empty"))
    assert response.status_code == 200, response.text
    assert _saying(response.json()["cards"]) == []


def test_the_italian_card_says_it_in_italian(client: TestClient) -> None:
    path, fixture = SERVICES[0]
    response = client.post(
        path, json=_request(fixture, "absent"), headers={"Accept-Language": "it-IT,it;q=0.9"}
    )
    details = " ".join(c.get("detail", "") for c in response.json()["cards"])
    assert "allergie e intolleranze non sono state verificate" in details
