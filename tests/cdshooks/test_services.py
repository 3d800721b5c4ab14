"""CDS Hooks 2.0.1: discovery and each service against golden request/response fixtures, 412,
feedback, JWT, and the card rules (summary < 140 characters whatever the data).

Golden files: ``fixtures/<name>.request.json`` → ``fixtures/<name>.response.json``. After a
deliberate change, rewrite them with ``CMVCDS_REGOLD=1 pytest tests/cdshooks`` and review the diff.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.adapters.cdshooks.cards import decision_cards, summary
from cmvcds.adapters.cdshooks.models import Action, Card, CdsRequest, Source, Suggestion
from cmvcds.adapters.cdshooks.prefetch import PreconditionFailed, gather
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY

FIXTURES = Path(__file__).parent / "fixtures"
REGOLD = os.environ.get("CMVCDS_REGOLD") == "1"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def golden(name: str, actual: Any) -> None:
    path = FIXTURES / name
    if REGOLD:
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        pytest.fail(f"{name} regenerated: review the diff, then run without CMVCDS_REGOLD")
    assert path.exists(), f"{name} is missing; write it with CMVCDS_REGOLD=1 and review it"
    assert actual == load(name), f"{name} differs; review and regenerate with CMVCDS_REGOLD=1"


def test_discovery_matches_its_golden_file(client: TestClient) -> None:
    body = client.get("/cds-services").json()
    golden("discovery.response.json", body)
    ids = [s["id"] for s in body["services"]]
    assert len(ids) == len(set(ids)), ids  # an EHR registers a service by its id
    hooks = {(s["id"], s["hook"]) for s in body["services"]}
    assert hooks == {
        ("cmv-pregnancy-valacyclovir", "patient-view"),
        ("cmv-therapy-monitor", "patient-view"),
        ("cmv-antiviral-dose-check", "order-sign"),
        ("cmv-antiviral-dose-check-select", "order-select"),
    }
    for service in body["services"]:
        assert (
            service["description"]
            and service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        )


@pytest.mark.parametrize(
    ("name", "service"),
    [
        ("pregnancy-valacyclovir", "cmv-pregnancy-valacyclovir"),
        ("antiviral-dose-check", "cmv-antiviral-dose-check"),
        ("therapy-monitor", "cmv-therapy-monitor"),
    ],
)
def test_service_matches_its_golden_response(client: TestClient, name: str, service: str) -> None:
    response = client.post(f"/cds-services/{service}", json=load(f"{name}.request.json"))
    assert response.status_code == 200, response.text
    golden(f"{name}.response.json", response.json())
    for card in response.json()["cards"]:
        Card.model_validate(card)


def test_pregnancy_card_gives_decision_dates_and_an_order(client: TestClient) -> None:
    cards = client.post(
        "/cds-services/cmv-pregnancy-valacyclovir", json=load("pregnancy-valacyclovir.request.json")
    ).json()["cards"]
    first = cards[0]
    # Dated by GA 5+4 on 2026-10-20 → LMP 2026-09-11, GA 10+1 on 2026-11-21. Seroconversion between
    # 2026-09-30 and 2026-11-10; earliest amniocentesis = later of 2026-11-10 + 56 d (2027-01-05)
    # and 20+1 (LMP + 141 d = 2027-01-30) = 2027-01-30.
    assert first["summary"].startswith(
        "Valacyclovir to prevent fetal CMV infection (L. 648/96): recommended"
    )
    assert "GA 10+1" in first["summary"] and "amniocentesis from 2027-01-30" in first["summary"]
    assert first["indicator"] == "info"
    assert first["selectionBehavior"] == "at-most-one"
    order = first["suggestions"][0]["actions"][0]["resource"]
    assert order["medicationCodeableConcept"]["coding"][0]["code"] == "73645"
    assert order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 2000
    assert "http://loinc.org|1234-5" in first["detail"]  # the unmapped code is reported


def test_dose_check_replaces_a_dose_too_high_for_the_kidney(client: TestClient) -> None:
    cards = client.post(
        "/cds-services/cmv-antiviral-dose-check", json=load("antiviral-dose-check.request.json")
    ).json()["cards"]
    assert len(cards) == 1
    card = cards[0]
    assert card["indicator"] == "critical"
    update = card["suggestions"][0]["actions"][0]
    assert update["type"] == "update"
    assert update["resource"]["id"] == "mr-vgc-1"
    assert (
        update["resource"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 450
    )


def test_order_select_checks_only_the_selected_orders(client: TestClient) -> None:
    request = load("antiviral-dose-check.request.json")
    request["hook"] = "order-select"
    request["context"]["selections"] = ["MedicationRequest/another"]
    assert client.post("/cds-services/cmv-antiviral-dose-check-select", json=request).json() == {
        "cards": []
    }
    request["context"]["selections"] = ["MedicationRequest/mr-vgc-1"]
    assert (
        len(
            client.post("/cds-services/cmv-antiviral-dose-check-select", json=request).json()[
                "cards"
            ]
        )
        == 1
    )


def test_order_select_names_a_contradictory_creatinine(client: TestClient) -> None:
    """Creatinine 1.4 and 3.0 mg/dL on 2026-11-20: the dose reads creatinine as unknown
    (engine/same_time.py); the order-select check says why on a warning card, in either order."""
    request = load("antiviral-dose-check.request.json")
    request["hook"] = "order-select"
    request["context"]["selections"] = ["MedicationRequest/mr-vgc-1"]
    entries = request["prefetch"]["observations"]["entry"]
    second = json.loads(json.dumps(entries[0]))
    second["resource"]["id"] = "dose-obs-1b"
    second["resource"]["valueQuantity"]["value"] = 3.0
    answers = []
    for order in ([*entries, second], [second, *entries]):
        request["prefetch"]["observations"]["entry"] = order
        cards = client.post("/cds-services/cmv-antiviral-dose-check-select", json=request).json()
        answers.append(cards["cards"])
    assert [c["summary"] for c in answers[0]] == [c["summary"] for c in answers[1]]
    found = [c for c in answers[0] if "Contradictory results of creatinine" in c["detail"]]
    assert len(found) == 1 and found[0]["indicator"] == "warning"
    assert "2026-11-20" in found[0]["summary"]


def test_missing_prefetch_without_fhir_server_is_412(client: TestClient) -> None:
    response = client.post(
        "/cds-services/cmv-pregnancy-valacyclovir",
        json=load("pregnancy-valacyclovir-no-prefetch.request.json"),
    )
    assert response.status_code == 412
    assert response.headers["content-type"] == "application/problem+json"
    assert "patient" in response.json()["detail"]


def test_null_patient_is_answered_and_said_not_read(client: TestClient) -> None:
    """CDS Hooks 2.0 §Prefetch: a key the client has no data for is null; it was a 412
    (probe14 F8). The answer says the Patient was not read (sex and birth date unknown)."""
    request = load("pregnancy-valacyclovir.request.json")
    request["prefetch"]["patient"] = None
    response = client.post("/cds-services/cmv-pregnancy-valacyclovir", json=request)
    assert response.status_code == 200, response.text
    details = "\n".join(c["detail"] for c in response.json()["cards"])
    assert "prefetch patient was null" in details


def test_no_cards_for_a_man_or_without_cmv_results(client: TestClient) -> None:
    request = load("pregnancy-valacyclovir.request.json")
    request["prefetch"]["patient"]["gender"] = "male"
    del request["prefetch"]["observations"]["entry"][0]  # no pregnancy in his record
    assert client.post("/cds-services/cmv-pregnancy-valacyclovir", json=request).json() == {
        "cards": []
    }
    request = load("pregnancy-valacyclovir.request.json")  # pregnancy status: not pregnant
    status = request["prefetch"]["observations"]["entry"][0]["resource"]["valueCodeableConcept"][
        "coding"
    ][0]
    status.update({"system": "http://loinc.org", "code": "LA26683-5", "display": "Not pregnant"})
    assert client.post("/cds-services/cmv-pregnancy-valacyclovir", json=request).json() == {
        "cards": []
    }
    request = load("pregnancy-valacyclovir.request.json")
    request["prefetch"]["observations"]["entry"] = request["prefetch"]["observations"]["entry"][:2]
    assert client.post("/cds-services/cmv-pregnancy-valacyclovir", json=request).json() == {
        "cards": []
    }


def test_a_binding_violation_is_reported_and_the_rest_still_answered(client: TestClient) -> None:
    """Issue 16 item 4: the invalid result is left out and listed on a warning card; the decision
    is still made from the rest (without the positive IgG the seroconversion is not shown, so
    valacyclovir is no longer "recommended")."""
    request = load("pregnancy-valacyclovir.request.json")
    request["prefetch"]["observations"]["entry"][3]["resource"]["status"] = "bogus"
    cards = client.post("/cds-services/cmv-pregnancy-valacyclovir", json=request).json()["cards"]
    warning = [c for c in cards if c["indicator"] == "warning"]
    assert len(warning) == 1 and "ignored" in warning[0]["summary"]
    assert "'bogus' is not in the required value set" in warning[0]["detail"]
    decision = [c for c in cards if c["summary"].startswith("Valacyclovir to prevent fetal CMV")]
    assert len(decision) == 1 and "recommended" not in decision[0]["summary"].split(":")[1]


def test_unknown_service_and_wrong_hook(client: TestClient) -> None:
    request = load("pregnancy-valacyclovir.request.json")
    assert client.post("/cds-services/nope", json=request).status_code == 404
    request["hook"] = "order-sign"
    assert client.post("/cds-services/cmv-pregnancy-valacyclovir", json=request).status_code == 400


def test_feedback_is_stored(client: TestClient) -> None:
    item = {
        "card": "33434dee-7fc8-5e51-b600-15ad6ea95de9",
        "outcome": "overridden",
        "overrideReason": {"userComment": "declined"},
        "outcomeTimestamp": "2026-11-21T10:00:00Z",
    }
    response = client.post(
        "/cds-services/cmv-pregnancy-valacyclovir/feedback", json={"feedback": [item]}
    )
    assert response.status_code == 200 and response.json() == {}
    assert client.app.state.store.feedback("cmv-pregnancy-valacyclovir") == [item]  # type: ignore[attr-defined]
    bad = client.post(
        "/cds-services/cmv-pregnancy-valacyclovir/feedback",
        json={"feedback": [{"card": "x", "outcome": "maybe"}]},
    )
    assert bad.status_code == 422


def test_prefetch_is_fetched_from_the_fhir_server_with_the_token() -> None:
    seen: list[httpx.Request] = []

    def fhir(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/Patient/p1"):
            return httpx.Response(200, json={"resourceType": "Patient", "id": "p1"})
        return httpx.Response(
            200, json={"resourceType": "Bundle", "type": "searchset", "entry": []}
        )

    request = CdsRequest.model_validate(
        {
            "hook": "patient-view",
            "hookInstance": "h1",
            "fhirServer": "https://ehr.example/fhir",
            "fhirAuthorization": {
                "access_token": "tok",
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/*.read",
                "subject": "cds",
            },
            "context": {"patientId": "p1", "userId": "Practitioner/1"},
        }
    )
    templates = {
        "patient": "Patient/{{context.patientId}}",
        "observations": "Observation?patient={{context.patientId}}&code=http://loinc.org|2160-0",
    }
    data = gather(
        request,
        templates,
        ["patient"],
        allowed_servers=["https://ehr.example/fhir"],
        transport=httpx.MockTransport(fhir),
    )
    assert data["patient"]["id"] == "p1"
    assert [str(r.url) for r in seen] == [
        "https://ehr.example/fhir/Patient/p1",
        # the service's own search asks for pages of 100, newest first (_count, _sort=-date)
        "https://ehr.example/fhir/Observation?patient=p1&code=http://loinc.org|2160-0"
        "&_count=100&_sort=-date",
    ]
    assert all(r.headers["Authorization"] == "Bearer tok" for r in seen)


def test_an_unreachable_fhir_server_is_412() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    request = CdsRequest.model_validate(
        {
            "hook": "patient-view",
            "hookInstance": "h",
            "fhirServer": "https://x",
            "context": {"patientId": "p"},
        }
    )
    with pytest.raises(PreconditionFailed, match="could not be reached"):
        gather(
            request,
            {"patient": "Patient/{{context.patientId}}"},
            ["patient"],
            allowed_servers=["https://x"],
            transport=httpx.MockTransport(down),
        )


# --- the card rules -------------------------------------------------------------------------


@given(st.text(min_size=1, max_size=600).filter(lambda t: t.strip()))
@settings(max_examples=200, deadline=None)
def test_a_summary_never_reaches_140_characters(text: str) -> None:
    assert 0 < len(summary(text)) < 140


@given(
    reasons=st.lists(st.text(max_size=300), max_size=4),
    ga=st.from_regex(r"\A[1-4]?[0-9]\+[0-6]\Z"),
    outcome=st.sampled_from(
        ["recommended", "not_indicated", "excluded", "specialist_review", "insufficient_data"]
    ),
    decision=st.sampled_from(["valacyclovir-prevention", "valganciclovir-congenital", "x" * 200]),
)
@settings(max_examples=100, deadline=None)
def test_decision_cards_are_valid_whatever_the_assessment(
    reasons: list[str], ga: str, outcome: str, decision: str
) -> None:
    doc = {
        "knowledge": {"version": "2026.11.0", "sha256": "0" * 64},
        "findings": {"gestational_age": ga},
        "decisions": [
            {
                "id": decision,
                "outcome": outcome,
                "reasons": reasons,
                "citations": ["aifa2020-648-valacyclovir"],
            }
        ],
        "regimens": [],
        "schedule": [{"event": "amniocentesis", "earliest": "2026-05-10", "citations": []}],
        "alerts": [],
        "missing": [],
    }
    for card in decision_cards(doc, base_url="http://x", service_id="s", hook_instance="h"):
        assert len(card.summary) < 140
        assert card.indicator in ("info", "warning", "critical")


def test_card_rules_are_enforced() -> None:
    source = Source(label="cmvcds")
    with pytest.raises(ValidationError):
        Card(summary="x" * 140, indicator="info", source=source)
    with pytest.raises(ValidationError):
        Card.model_validate({"summary": "ok", "indicator": "urgent", "source": {"label": "cmvcds"}})
    with pytest.raises(ValidationError, match="selectionBehavior"):
        Card(
            summary="ok",
            indicator="info",
            source=source,
            suggestions=[Suggestion(label="do", actions=[Action(type="create", description="d")])],
        )
    with pytest.raises(ValidationError):
        Source(label="")


# --- JWT of the calling EHR -----------------------------------------------------------------


@pytest.fixture
def secured(tmp_path: Path, knowledge: Knowledge) -> tuple[TestClient, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "ehr-1", "alg": "RS384", "use": "sig"})
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        demo_cases=False,
        cds_trusted_issuers={"https://ehr.example": str(tmp_path / "jwks.json")},
    )
    app = create_app(settings, Clinic(knowledge, today=lambda: TODAY))
    return TestClient(app, raise_server_exceptions=False), key


def _token(key: Any, audience: str, jti: str | None = None) -> str:
    now = int(time.time())
    claims = {
        "iss": "https://ehr.example",
        "sub": "client",
        "aud": audience,
        "exp": now + 300,
        "iat": now,
        "jti": jti or str(uuid.uuid4()),
    }
    return jwt.encode(claims, key, algorithm="RS384", headers={"kid": "ehr-1"})


def test_jwt_is_required_and_verified_when_configured(secured: tuple[TestClient, Any]) -> None:
    client, key = secured
    url = "/cds-services/cmv-pregnancy-valacyclovir"
    request = load("pregnancy-valacyclovir.request.json")
    assert client.post(url, json=request).status_code == 401
    good = _token(key, f"http://testserver{url}", jti="once")
    assert (
        client.post(url, json=request, headers={"Authorization": f"Bearer {good}"}).status_code
        == 200
    )
    assert (
        client.post(url, json=request, headers={"Authorization": f"Bearer {good}"}).status_code
        == 401
    )  # replay
    wrong = _token(key, "http://testserver/cds-services/other")
    assert (
        client.post(url, json=request, headers={"Authorization": f"Bearer {wrong}"}).status_code
        == 401
    )
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = _token(other_key, f"http://testserver{url}")
    assert (
        client.post(url, json=request, headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )


def test_cors_preflight_for_the_cds_hooks_sandbox(client: TestClient) -> None:
    headers = {
        "Origin": "https://sandbox.cds-hooks.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization",
    }
    response = client.options("/cds-services/cmv-pregnancy-valacyclovir", headers=headers)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]


def test_a_held_regimen_is_never_a_draft_order(knowledge: Knowledge) -> None:
    """c3d (outside probe): valganciclovir held (ANC 740 < 750): the card shows the hold and
    offers no MedicationRequest to sign; the same regimen not held is offered (RxNorm 275891)."""
    from cmvcds.adapters.cdshooks.services import _suggestion
    from cmvcds.assess import assess
    from tests.outside_probe.conftest import parsed, raw_case

    doc = assess(parsed(raw_case("c3d-resume740"), knowledge), knowledge).to_dict()
    assert doc["regimens"][0]["held"]
    request = CdsRequest.model_validate(load("antiviral-dose-check.request.json"))
    clinic = Clinic(knowledge, today=lambda: TODAY)
    assert _suggestion(doc, request, clinic) is None
    doc["regimens"][0].pop("held")
    assert _suggestion(doc, request, clinic) is not None


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("not a bundle", "a string"),
        ([{"resourceType": "Observation"}], "a list"),
        ({"entry": []}, "an object without resourceType"),
        (7, "a number"),
    ],
)
def test_a_prefetch_value_that_is_not_a_fhir_resource_is_412_naming_it(
    client: TestClient, value: object, said: str
) -> None:
    """probe8 R2: ``"observations": "not a bundle"`` was read as no observations and answered
    200 with no cards, which the EHR cannot tell from "nothing to say"."""
    request = load("pregnancy-valacyclovir.request.json")
    request["prefetch"]["observations"] = value
    response = client.post("/cds-services/cmv-pregnancy-valacyclovir", json=request)
    assert response.status_code == 412, response.text
    detail = response.json()["detail"]
    assert "prefetch observations is not a FHIR resource" in detail and said in detail


def test_one_resource_in_place_of_a_searchset_is_read_as_its_bundle(client: TestClient) -> None:
    """review9b #8: one Observation sent for the ``observations`` search was read as no data
    (200, no cards). A resource of the searched type is read as a searchset of it; a resource of
    another type is a 412 naming both."""
    url = "/cds-services/cmv-pregnancy-valacyclovir"
    request = load("pregnancy-valacyclovir.request.json")
    entries = request["prefetch"]["observations"]["entry"]
    kept = dict(request, prefetch=dict(request["prefetch"], observations={
        "resourceType": "Bundle", "type": "searchset", "entry": [entries[1]]}))  # fmt: skip
    alone = dict(request, prefetch=dict(request["prefetch"], observations=entries[1]["resource"]))
    as_bundle = client.post(url, json=kept)
    as_resource = client.post(url, json=alone)
    assert as_resource.status_code == 200
    assert as_resource.json() == as_bundle.json()
    wrong = dict(request, prefetch=dict(request["prefetch"], observations=request["prefetch"]["patient"]))
    refused = client.post(url, json=wrong)
    assert refused.status_code == 412
    assert "prefetch observations is a Patient" in refused.json()["detail"]


def test_a_man_recorded_as_pregnant_gets_a_card_saying_the_record_contradicts_itself(
    client: TestClient,
) -> None:
    """probe8 R2: a male patient with a pregnancy in the record and a CMV seroconversion got 200
    with no cards, which the EHR cannot tell from "nothing to advise"."""
    request = load("pregnancy-valacyclovir.request.json")  # pregnancy status: pregnant
    request["prefetch"]["patient"]["gender"] = "male"
    cards = client.post("/cds-services/cmv-pregnancy-valacyclovir", json=request).json()["cards"]
    assert len(cards) == 1
    assert cards[0]["indicator"] in ("warning", "critical")
    assert "recorded as male and has an active pregnancy" in cards[0]["detail"]
    assert not cards[0].get("suggestions")  # nothing to order from a contradictory record
