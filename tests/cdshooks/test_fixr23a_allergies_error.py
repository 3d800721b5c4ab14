"""An EHR error in place of the allergies is said as an error, not as "not prefetched" and not
as "none recorded" (fixr23a item 7).

CDS Hooks 2.0.1 §Prefetch: a prefetch the EHR could not fulfil may be an OperationOutcome in
place of the data; FHIR R4 §3.1.1.4 (Bundle.entry.search.mode "outcome"): a searchset entry that
is an OperationOutcome reports on the search (e.g. too costly), it is not a match. Neither means
"no allergy recorded", so the card says the allergies were not checked because of the error.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

FIXTURES = Path(__file__).parent / "fixtures"
ERROR = "the EHR returned an error (OperationOutcome) for allergies"
SERVICES = [
    ("/cds-services/cmv-antiviral-dose-check", "antiviral-dose-check.request.json"),
    ("/cds-services/cmv-therapy-monitor", "therapy-monitor.request.json"),
    ("/cds-services/cmv-pregnancy-valacyclovir", "pregnancy-valacyclovir.request.json"),
]
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "exception"}],
}
OUTCOMES_ONLY = {
    "resourceType": "Bundle",
    "type": "searchset",
    "entry": [
        {
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "warning", "code": "too-costly"}],
            },
            "search": {"mode": "outcome"},
        }
    ],
}


def _request(name: str, allergies: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = copy.deepcopy(json.loads((FIXTURES / name).read_text("utf-8")))
    request["prefetch"]["allergies"] = copy.deepcopy(allergies)
    request.pop("fhirServer", None)
    return request


@pytest.mark.parametrize(("path", "fixture"), SERVICES, ids=[s[1].split(".")[0] for s in SERVICES])
@pytest.mark.parametrize("allergies", [OUTCOME, OUTCOMES_ONLY], ids=["outcome", "outcomes-only"])
def test_an_error_is_said_as_an_error(
    client: TestClient, path: str, fixture: str, allergies: dict[str, Any]
) -> None:
    response = client.post(path, json=_request(fixture, allergies))
    assert response.status_code == 200, response.text
    details = [c["detail"] for c in response.json()["cards"] if ERROR in c.get("detail", "")]
    assert len(details) == 1
    assert "not prefetched" not in details[0]


def test_the_italian_card_says_it_in_italian(client: TestClient) -> None:
    path, fixture = SERVICES[0]
    response = client.post(
        path, json=_request(fixture, OUTCOME), headers={"Accept-Language": "it-IT,it;q=0.9"}
    )
    details = " ".join(c.get("detail", "") for c in response.json()["cards"])
    assert "ha restituito un errore (OperationOutcome) per le allergie" in details
