"""CDS Hooks with EHR-shaped R4B prefetch (outside probe6 #10, #21, #16): a cut-short search is
said, the latest LMP dates the pregnancy whatever the search order, a lower-case Bearer works."""

from __future__ import annotations

import copy
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from fastapi.testclient import TestClient
from fhir.resources.R4B.observation import Observation

from tests.cdshooks.test_services import secured

__all__ = ["secured"]

FIXTURES = Path(__file__).parent / "fixtures"
URL = "/cds-services/cmv-pregnancy-valacyclovir"


def pregnancy_request() -> dict[str, Any]:
    out: dict[str, Any] = json.loads((FIXTURES / "pregnancy-valacyclovir.request.json").read_text())
    return out


def lmp(ident: str, recorded: str, value: str) -> dict[str, Any]:
    model = Observation(
        id=ident,
        status="final",
        subject={"reference": "Patient/p-preg-1"},
        code={"coding": [{"system": "http://loinc.org", "code": "8665-2"}]},
        effectiveDateTime=recorded,
        valueDateTime=value,
    )
    out: dict[str, Any] = json.loads(model.model_dump_json(by_alias=True, exclude_none=True))
    return out


def test_a_paged_prefetch_without_fhir_server_is_said_cut_short(client: TestClient) -> None:
    """#10: page 1 of a search with ``link[next]`` and no fhirServer to read page 2 from."""
    request = pregnancy_request()
    request["prefetch"]["observations"]["link"] = [
        {"relation": "next", "url": "https://ehr.example/fhir/Observation?page=2"}
    ]
    cards = client.post(URL, json=request).json()["cards"]
    text = json.dumps(cards)
    assert "observations: further pages (link next) not read" in text
    assert "no fhirServer" in text


def test_the_latest_lmp_dates_the_pregnancy_in_a_newest_first_search(client: TestClient) -> None:
    """#21: the corrected LMP 2026-09-11 (recorded 2026-11-15) and the first estimate 2026-08-01
    (recorded 2026-10-01), newest first: GA 10+1 and amniocentesis from 2027-01-30, as with the
    corrected LMP alone — not a month earlier."""
    request = pregnancy_request()
    entries = request["prefetch"]["observations"]["entry"]
    entries[:] = [e for e in entries if e["resource"]["id"] != "obs-2"]  # the dating scan
    entries += [
        {"resource": lmp("lmp-new", "2026-11-15", "2026-09-11")},
        {"resource": lmp("lmp-old", "2026-10-01", "2026-08-01")},
    ]
    alone = copy.deepcopy(request)
    alone["prefetch"]["observations"]["entry"] = entries[:-1]
    first = client.post(URL, json=request).json()["cards"][0]["summary"]
    assert "GA 10+1" in first and "amniocentesis from 2027-01-30" in first
    assert first == client.post(URL, json=alone).json()["cards"][0]["summary"]


def test_a_lower_case_bearer_scheme_is_accepted(secured: tuple[TestClient, Any]) -> None:
    """#16: RFC 7235 §2.1, the auth scheme is case-insensitive."""
    client, key = secured
    now = int(time.time())
    claims = {
        "iss": "https://ehr.example",
        "sub": "client",
        "aud": f"http://testserver{URL}",
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    token = jwt.encode(claims, key, algorithm="RS384", headers={"kid": "ehr-1"})
    response = client.post(
        URL, json=pregnancy_request(), headers={"Authorization": f"bearer {token}"}
    )
    assert response.status_code == 200
