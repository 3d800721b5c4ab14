"""Orders that were not checked and said nothing, or said the wrong thing (probe14 S2, F6–F9).

S2: ganciclovir 700 mg IV every 12 h for a man of 50, 70 kg, creatinine 1.0 mg/dL
(Cockcroft-Gault (140 − 50) × 70 / (72 × 1.0) = 87.5 mL/min ≥ 70: label 5 mg/kg = 350 mg every
12 h, so the order is 2× the labelled daily amount, critical), naming its drug by
``medicationReference`` to a Medication the request did not send: no card at all, and with a
``fhirServer`` the Medication was not even fetched. Now it is read from the FHIR server (on the
allow-list) and checked; without a server the card says the order was NOT checked and why.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.knowledge import Knowledge
from tests.cdshooks.probe14_ehr import (
    ATC,
    DOSE_CHECK,
    PID,
    dose_request,
    medication,
    observation,
    order,
    patient,
    quantity,
    renal_and_weight,
)
from tests.conftest import TODAY

ISSUER = "https://ehr.example.org"
AUDIENCE = f"http://testserver{DOSE_CHECK}"
MAN = {"gender": "male", "birth": "1976-05-10"}


class FhirServer(BaseHTTPRequestHandler):
    """A FHIR server holding Medication/med1 (ganciclovir, RxNorm 4678); every GET recorded."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        FhirServer.seen.append(self.path)
        if self.path.endswith("/Medication/med1"):
            body, status = json.dumps(medication("med1", "4678")).encode(), 200
        elif "/Medication/" in self.path:
            body, status = b'{"resourceType": "OperationOutcome", "issue": []}', 404
        else:
            body, status = json.dumps({"resourceType": "Bundle", "type": "searchset"}).encode(), 200
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fhir_server() -> Iterator[str]:
    FhirServer.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FhirServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir"
    server.shutdown()
    server.server_close()


class Keys:
    """An RS384 and an ES384 key of the EHR, published in one JWKS under kids rsa1 and ec1."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP384R1())
        jwks = []
        for kid, key, algorithm, alg in (
            ("rsa1", self.rsa, jwt.algorithms.RSAAlgorithm, "RS384"),
            ("ec1", self.ec, jwt.algorithms.ECAlgorithm, "ES384"),
        ):
            jwk = json.loads(algorithm.to_jwk(key.public_key()))
            jwk.update({"kid": kid, "alg": alg, "use": "sig"})
            jwks.append(jwk)
        self.jwks = {"keys": jwks}

    def token(self, alg: str = "RS384", kid: str | None = None) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        }
        key = self.rsa if alg.startswith("RS") else self.ec
        default = "rsa1" if alg.startswith("RS") else "ec1"
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid or default})


@pytest.fixture
def keys() -> Keys:
    return Keys()


@pytest.fixture
def signed(tmp_path: Path, knowledge: Knowledge, keys: Keys, fhir_server: str) -> TestClient:
    (tmp_path / "jwks.json").write_text(json.dumps(keys.jwks))
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        demo_cases=False,
        cds_trusted_issuers={ISSUER: str(tmp_path / "jwks.json")},
        cds_fhir_servers=[fhir_server],
    )
    return TestClient(
        create_app(settings, Clinic(knowledge, today=lambda: TODAY)), raise_server_exceptions=False
    )


def _post(client: TestClient, keys: Keys, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(
        DOSE_CHECK, json=body, headers={"Authorization": f"Bearer {keys.token()}"}
    )
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def _overdose_by_reference(**extra: Any) -> dict[str, Any]:
    ordered = order(
        reference="Medication/med1", dose={"doseQuantity": quantity(700, "mg")}, route="47625008"
    )
    return dose_request([ordered], renal_and_weight(70, 1.0), who=patient(**MAN), **extra)


def test_a_referenced_medication_is_read_from_the_fhir_server_and_checked(
    signed: TestClient, keys: Keys, fhir_server: str
) -> None:
    cards = _post(signed, keys, _overdose_by_reference(fhirServer=fhir_server))
    assert "/fhir/Medication/med1" in FhirServer.seen
    above = [c for c in cards if "above the labelled dose" in c["summary"]]
    assert above and above[0]["indicator"] == "critical", [c["summary"] for c in cards]
    assert "350 mg" in above[0]["summary"]


def test_without_a_fhir_server_the_order_is_said_not_checked(
    signed: TestClient, keys: Keys
) -> None:
    cards = _post(signed, keys, _overdose_by_reference())
    unread = [c for c in cards if "not checked" in c["summary"]]
    assert unread and unread[0]["indicator"] == "warning", [c["summary"] for c in cards]
    assert "Medication/med1" in unread[0]["detail"]
    assert "could not be identified" in unread[0]["summary"]
    assert FhirServer.seen == []


def test_a_medication_the_server_does_not_have_is_said_not_checked(
    signed: TestClient, keys: Keys, fhir_server: str
) -> None:
    ordered = order(reference="Medication/gone", dose={"doseQuantity": quantity(700, "mg")})
    body = dose_request(
        [ordered], renal_and_weight(70, 1.0), who=patient(**MAN), fhirServer=fhir_server
    )
    cards = _post(signed, keys, body)
    assert "/fhir/Medication/gone" in FhirServer.seen
    assert [c for c in cards if "not checked" in c["summary"]], [c["summary"] for c in cards]
    assert any("Medication/gone" in c["detail"] for c in cards)


def test_an_order_of_another_drug_is_not_a_card(client: TestClient) -> None:
    """Acetaminophen (RxNorm 161) is no CMV antiviral: nothing to say about it."""
    body = dose_request(
        [order(code="161", dose={"doseQuantity": quantity(1000, "mg")})], renal_and_weight()
    )
    response = client.post(DOSE_CHECK, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["cards"] == []


@pytest.mark.parametrize(
    ("dose", "said"),
    [
        (
            {"doseRange": {"low": quantity(450, "mg"), "high": quantity(900, "mg")}},
            "dose given as a range",
        ),
        ({"doseQuantity": quantity(1.12, "mL")}, "needs the concentration (mg/mL)"),
    ],
)
def test_a_range_or_a_volume_names_the_drug_not_an_unknown_code(
    client: TestClient, dose: dict[str, Any], said: str
) -> None:
    """probe14 F9: the summary said "its medication code is not known to cmvcds" for a
    valganciclovir order whose dose was a range or a volume."""
    body = dose_request([order(dose=dose)], renal_and_weight())
    response = client.post(DOSE_CHECK, json=body)
    cards = [c for c in response.json()["cards"] if "not checked" in c["summary"]]
    assert len(cards) == 1, response.json()["cards"]
    assert cards[0]["summary"].startswith("valganciclovir order not checked")
    assert "not known" not in cards[0]["summary"]
    assert said in cards[0]["detail"]


@pytest.mark.parametrize(("alg", "kid"), [("RS384", "ec1"), ("ES384", "rsa1")])
def test_a_kid_naming_a_key_of_the_other_type_is_a_401(
    signed: TestClient, keys: Keys, alg: str, kid: str
) -> None:
    """probe14 F7: PyJWT's TypeError ("Expecting a PEM-formatted key") was a 500."""
    body = _overdose_by_reference()
    response = signed.post(
        DOSE_CHECK, json=body, headers={"Authorization": f"Bearer {keys.token(alg, kid)}"}
    )
    assert response.status_code == 401, response.text
    assert f"key {kid!r}" in response.json()["detail"]
    for good in ("RS384", "ES384"):  # each key still verifies its own algorithm
        ok = signed.post(
            DOSE_CHECK, json=body, headers={"Authorization": f"Bearer {keys.token(good)}"}
        )
        assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("key", ["observations", "patient"])
def test_a_null_prefetch_is_answered_and_said_not_read(client: TestClient, key: str) -> None:
    """probe14 F8: CDS Hooks 2.0 says a key the client has no data for is null: it was a 412.
    Now the call is answered with what there is; a card names the key not read, and the order
    card names what the dose needed (creatinine and weight; or the age)."""
    body = dose_request([order()], renal_and_weight(), who=patient(**MAN))
    body["prefetch"][key] = None
    response = client.post(DOSE_CHECK, json=body)
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    details = "\n".join(c["detail"] for c in cards)
    assert f"prefetch {key} was null" in details
    needed = {"observations": "Needed: creatinine", "patient": "Needed: age"}[key]
    assert needed in details, details
    assert "Sources: ." not in details


def test_a_null_prefetch_is_read_from_the_fhir_server_when_there_is_one(
    signed: TestClient, keys: Keys, fhir_server: str
) -> None:
    body = dose_request([order()], renal_and_weight(), who=patient(**MAN), fhirServer=fhir_server)
    body["prefetch"]["observations"] = None
    _post(signed, keys, body)
    assert any(p.startswith("/fhir/Observation?") for p in FhirServer.seen), FhirServer.seen


def test_a_weight_in_pounds_is_read(client: TestClient) -> None:
    """probe14 F6: 154 [lb_av] × 0.45359237 = 69.853 kg; valganciclovir 900 mg every 12 h
    for CrCl (140 − 50) × 69.853 / 72 = 87.3 mL/min is the label's dose: no card. Without the
    weight (as before) the card named no missing item."""
    pounds = observation("o-wt", "29463-7", valueQuantity=quantity(154, "lb", "[lb_av]"))
    creatinine = observation("o-cr", "2160-0", valueQuantity=quantity(1.0, "mg/dL"))
    response = client.post(
        DOSE_CHECK, json=dose_request([order()], [creatinine, pounds], who=patient(**MAN))
    )
    assert response.status_code == 200, response.text
    assert not [c for c in response.json()["cards"] if c["indicator"] != "info"]
    # 1800 mg every 12 h is 2× that dose: critical, so the pounds were read as kilograms × 0.4536
    high = order(dose={"doseQuantity": quantity(1800, "mg")})
    cards = client.post(
        DOSE_CHECK, json=dose_request([high], [creatinine, pounds], who=patient(**MAN))
    ).json()["cards"]
    assert [c for c in cards if c["indicator"] == "critical" and "900 mg" in c["summary"]]


@pytest.mark.parametrize(("birth", "years"), [("1976-05", 50), ("1976", 49), ("1976-12", 49)])
def test_an_adults_birth_month_or_year_gives_the_least_age(
    client: TestClient, birth: str, years: int
) -> None:
    """On 2026-11-21 a birth in 1976-05 is 50 whatever the day; in 1976 (possibly December) at
    least 49; the age used is said."""
    body = dose_request(
        [order()], renal_and_weight(70, 1.0), who=patient(gender="male", birth=birth)
    )
    cards = client.post(DOSE_CHECK, json=body).json()["cards"]
    assert not [c for c in cards if c["indicator"] != "info"], cards
    assert any(f"age read as {years} years" in c["detail"] for c in cards)


def test_a_childs_birth_month_is_not_used(client: TestClient) -> None:
    body = dose_request(
        [order()], renal_and_weight(20, 0.4), who=patient(gender="male", birth="2019-03")
    )
    cards = client.post(DOSE_CHECK, json=body).json()["cards"]
    details = "\n".join(c["detail"] for c in cards)
    assert "a child's age is needed to the day" in details
    assert "Needed: age" in details


def test_letermovir_prophylaxis_is_checked_or_says_what_it_needs(client: TestClient) -> None:
    """Letermovir (ATC J05AX18) 480 mg daily, prophylaxis: the label regimen depends on the
    transplanted organ, which the record does not give: the card names it (it was "Insufficient
    data. Sources: ."). 960 mg daily for a kidney recipient (Z94.0) is 2× the label: critical."""
    ordered = order(
        code="J05AX18",
        system=ATC,
        dose={"doseQuantity": quantity(480, "mg")},
        every_h=24,
        reason={"text": "prophylaxis"},
    )
    cards = client.post(
        DOSE_CHECK, json=dose_request([ordered], renal_and_weight(70, 1.0), who=patient(**MAN))
    ).json()["cards"]
    assert any("Needed: transplant.organ" in c["detail"] for c in cards), cards
    kidney = {
        "resourceType": "Condition",
        "id": "c-tx",
        "subject": {"reference": f"Patient/{PID}"},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed",
                }
            ]
        },
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "Z94.0"}]},
    }
    double = order(
        code="J05AX18",
        system=ATC,
        dose={"doseQuantity": quantity(960, "mg")},
        every_h=24,
        reason={"text": "prophylaxis"},
    )
    body = dose_request(
        [double], renal_and_weight(70, 1.0), who=patient(**MAN), conditions=[kidney]
    )
    cards = client.post(DOSE_CHECK, json=body).json()["cards"]
    assert [
        c for c in cards if c["indicator"] == "critical" and "480 mg once daily" in c["summary"]
    ], cards


def test_a_coded_reason_is_named_and_still_not_an_indication(client: TestClient) -> None:
    """probe14 note: SNOMED 28944009 (Cytomegalovirus infection) is a diagnosis, not induction
    or maintenance: the dose is not checked, and the card now names the code it read."""
    coded = order(
        reason={
            "coding": [
                {
                    "system": "http://snomed.info/sct",
                    "code": "28944009",
                    "display": "Cytomegalovirus infection",
                }
            ]
        }
    )
    body = dose_request([coded], renal_and_weight(70, 1.0), who=patient(**MAN))
    cards = client.post(DOSE_CHECK, json=body).json()["cards"]
    stated = [c for c in cards if "does not state its indication" in c["summary"]]
    assert stated, cards
    assert (
        "http://snomed.info/sct|28944009 (Cytomegalovirus infection) names a diagnosis"
        in stated[0]["detail"]
    )
