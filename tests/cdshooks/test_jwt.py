"""The CDS Hooks endpoint as an attacker and as the CDS Hooks sandbox meet it.

Real tokens: keys generated here (``cryptography``), signed with PyJWT exactly as the sandbox
signs them (ES384, a ``kid`` naming a key of the issuer's JWKS, ``aud`` = the service URL,
``exp`` five minutes after ``iat``, a fresh ``jti``). Real FHIR servers: an HTTP server on a
local port that records every request it receives, so that "no request left" is observed,
not assumed.
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
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.knowledge import Knowledge
from tests.cdshooks.test_services import load
from tests.conftest import TODAY

SANDBOX = "https://sandbox.cds-hooks.org"
SERVICE = "/cds-services/cmv-pregnancy-valacyclovir"
AUDIENCE = f"http://testserver{SERVICE}"


class Keys:
    """An ES384 key pair of the sandbox and the JWKS that publishes its public half."""

    def __init__(self, kid: str = "sandbox-es384") -> None:
        self.kid = kid
        self.private = ec.generate_private_key(ec.SECP384R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        jwk.update({"kid": kid, "alg": "ES384", "use": "sig"})
        self.jwks = {"keys": [jwk]}

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": SANDBOX,
            "sub": "48163c5e-88b5-4cb3-92d3-23b800caa927",
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        }
        headers = {"kid": self.kid, "typ": "JWT", "jku": f"{SANDBOX}/.well-known/jwks.json"}
        headers.update(overrides.pop("headers", {}))
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.private, algorithm="ES384", headers=headers)


@pytest.fixture
def keys() -> Keys:
    return Keys()


def _settings(tmp_path: Path, keys: Keys, **extra: Any) -> Settings:
    (tmp_path / "jwks.json").write_text(json.dumps(keys.jwks))
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        demo_cases=False,
        cds_trusted_issuers={SANDBOX: str(tmp_path / "jwks.json")},
        **extra,
    )


@pytest.fixture
def client(tmp_path: Path, knowledge: Knowledge, keys: Keys) -> TestClient:
    app = create_app(_settings(tmp_path, keys), Clinic(knowledge, today=lambda: TODAY))
    return TestClient(app, raise_server_exceptions=False)


def _call(client: TestClient, token: str | None, body: dict[str, Any] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        SERVICE, json=body or load("pregnancy-valacyclovir.request.json"), headers=headers
    )


def test_a_sandbox_signed_es384_token_is_accepted(client: TestClient, keys: Keys) -> None:
    response = _call(client, keys.token())
    assert response.status_code == 200
    assert response.json()["cards"]


def test_verification_is_on_by_default(tmp_path: Path, knowledge: Knowledge) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", demo_cases=False)
    assert settings.cds_insecure_no_jwt is False
    client = TestClient(create_app(settings, Clinic(knowledge, today=lambda: TODAY)))
    response = _call(client, None)
    assert response.status_code == 401
    assert "no trusted CDS client is configured" in response.json()["detail"]
    assert client.get("/cds-services").status_code == 200  # discovery stays open


def _none_token() -> str:
    import base64

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": SANDBOX, "aud": AUDIENCE, "iat": now, "exp": now + 300, "jti": "x"}
    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': 'sandbox-es384'})}.{part(claims)}."


@pytest.mark.parametrize(
    ("case", "expect"),
    [
        ("no token", "a Bearer JWT is required"),
        ("alg none", "algorithm 'none' is not accepted"),
        ("hs256 with the public key", "algorithm 'HS256' is not accepted"),
        ("no kid", "no kid"),
        ("unknown kid", "no key 'other'"),
        ("wrong audience", "Audience doesn't match"),
        ("expired", "Signature has expired"),
        ("issued in the future", "not yet valid"),
        ("lives a day", "at most 3600 s"),
        ("untrusted issuer", "is not trusted"),
        ("signed by another key, jku to it", "Signature verification failed"),
        ("no jti", 'the "jti" claim'),
        ("garbage", "JWT refused"),
    ],
)
def test_bad_tokens_are_refused(client: TestClient, keys: Keys, case: str, expect: str) -> None:
    now = int(time.time())
    other = Keys()
    public_pem = keys.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = {
        "no token": lambda: None,
        "alg none": _none_token,
        "hs256 with the public key": lambda: _hs256(public_pem),
        "no kid": lambda: _without_kid(keys),
        "unknown kid": lambda: keys.token(headers={"kid": "other"}),
        "wrong audience": lambda: keys.token(aud="http://testserver/cds-services/other"),
        "expired": lambda: keys.token(iat=now - 900, exp=now - 600),
        "issued in the future": lambda: keys.token(iat=now + 600, exp=now + 900),
        "lives a day": lambda: keys.token(exp=now + 86_400),
        "untrusted issuer": lambda: keys.token(iss="https://evil.example"),
        "signed by another key, jku to it": lambda: other.token(
            headers={"jku": "https://evil.example/jwks.json"}
        ),
        "no jti": lambda: keys.token(jti=None),
        "garbage": lambda: "not.a.jwt",
    }[case]()
    response = _call(client, token)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert expect in response.json()["detail"]


def _hs256(secret: bytes) -> str:
    """The algorithm-confusion attack: HMAC keyed with the (public) verification key."""
    import base64
    import hashlib
    import hmac

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": SANDBOX, "aud": AUDIENCE, "iat": now, "exp": now + 300, "jti": "hs"}
    signing = f"{part({'alg': 'HS256', 'typ': 'JWT', 'kid': 'sandbox-es384'})}.{part(claims)}"
    mac = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _without_kid(keys: Keys) -> str:
    now = int(time.time())
    claims = {"iss": SANDBOX, "aud": AUDIENCE, "iat": now, "exp": now + 300, "jti": "nokid"}
    return jwt.encode(claims, keys.private, algorithm="ES384")


def test_clock_skew_within_the_leeway_is_accepted(client: TestClient, keys: Keys) -> None:
    now = int(time.time())
    assert _call(client, keys.token(iat=now - 330, exp=now - 30)).status_code == 200
    assert _call(client, keys.token(iat=now + 30, exp=now + 330)).status_code == 200


def test_a_replay_is_refused_by_another_worker(
    tmp_path: Path, knowledge: Knowledge, keys: Keys
) -> None:
    """Two app instances on one database stand for two worker processes."""
    settings = _settings(tmp_path, keys)
    first = TestClient(create_app(settings, Clinic(knowledge, today=lambda: TODAY)))
    second = TestClient(create_app(settings, Clinic(knowledge, today=lambda: TODAY)))
    token = keys.token()
    assert _call(first, token).status_code == 200
    replayed = _call(second, token)
    assert replayed.status_code == 401 and "replayed" in replayed.json()["detail"]
    assert _call(first, token).status_code == 401


def test_concurrent_calls_share_the_claim_of_their_ids_and_a_replay_among_them_is_refused(
    client: TestClient, keys: Keys
) -> None:
    """Twelve calls at once (their jti claims committed together, issue 20 item 5): each of the
    ten tokens sent once is accepted; of the token sent three times, exactly one call is."""
    from concurrent.futures import ThreadPoolExecutor

    tokens = [keys.token() for _ in range(10)]
    twice = keys.token()
    with client, ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda token: _call(client, token), [*tokens, twice, twice, twice]))
    assert [a.status_code for a in answers[:10]] == [200] * 10
    replays = sorted(a.status_code for a in answers[10:])
    assert replays == [200, 401, 401]
    assert all("replayed" in a.json()["detail"] for a in answers[10:] if a.status_code == 401)


# --- fhirServer: allow-list, https for tokens, encoding, redirects, non-JSON ------------------


class Recorder(BaseHTTPRequestHandler):
    """A FHIR server on a local port: records every path; answers by the test's ``mode``."""

    seen: ClassVar[list[str]] = []
    mode = "fhir"

    def do_GET(self) -> None:
        Recorder.seen.append(self.path)
        if Recorder.mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.end_headers()
            return
        if Recorder.mode == "html":
            body = b"<html><body>Login required</body></html>"
            ctype = "text/html"
        elif "Patient/" in self.path:
            body = json.dumps(
                {
                    "resourceType": "Patient",
                    "id": "p",
                    "gender": "female",
                    "birthDate": "1992-04-11",
                }
            ).encode()
            ctype = "application/fhir+json"
        else:
            body = json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": []}).encode()
            ctype = "application/fhir+json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fhir_server() -> Iterator[str]:
    Recorder.seen = []
    Recorder.mode = "fhir"
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir"
    server.shutdown()
    server.server_close()


def _fetching(tmp_path: Path, knowledge: Knowledge, keys: Keys, allowed: list[str]) -> TestClient:
    settings = _settings(tmp_path, keys, cds_fhir_servers=allowed)
    return TestClient(
        create_app(settings, Clinic(knowledge, today=lambda: TODAY)),
        raise_server_exceptions=False,
    )


def _no_prefetch(server: str, patient: str = "p", token: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": server,
        "context": {"patientId": patient, "userId": "Practitioner/1"},
    }
    if token:
        body["fhirAuthorization"] = {
            "access_token": "secret-ehr-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "cds",
        }
    return body


def test_a_fhir_server_off_the_allow_list_gets_no_request(
    tmp_path: Path, knowledge: Knowledge, keys: Keys, fhir_server: str
) -> None:
    client = _fetching(tmp_path, knowledge, keys, allowed=["https://ehr.example/fhir"])
    response = _call(client, keys.token(), _no_prefetch(fhir_server, token=True))
    assert response.status_code == 412
    assert "not on this installation's allow-list" in response.json()["detail"]
    assert Recorder.seen == []
    # a look-alike of an allowed base is not under it
    lookalike = _call(client, keys.token(), _no_prefetch("https://ehr.example/fhirevil"))
    assert lookalike.status_code == 412 and Recorder.seen == []


def test_a_token_is_never_sent_over_http(
    tmp_path: Path, knowledge: Knowledge, keys: Keys, fhir_server: str
) -> None:
    client = _fetching(tmp_path, knowledge, keys, allowed=[fhir_server])
    response = _call(client, keys.token(), _no_prefetch(fhir_server, token=True))
    assert response.status_code == 412
    assert "access token is sent over https only" in response.json()["detail"]
    assert Recorder.seen == []


def test_context_ids_are_percent_encoded(
    tmp_path: Path, knowledge: Knowledge, keys: Keys, fhir_server: str
) -> None:
    client = _fetching(tmp_path, knowledge, keys, allowed=[fhir_server])
    response = _call(client, keys.token(), _no_prefetch(fhir_server, patient="p/../../admin?x=1&y"))
    assert response.status_code in (200, 412)
    assert Recorder.seen[0] == "/fhir/Patient/p%2F..%2F..%2Fadmin%3Fx%3D1%26y"
    assert all("/admin" not in path for path in Recorder.seen)


@pytest.mark.parametrize(
    ("mode", "expect"),
    [("redirect", "answered 302 (redirects are not followed)"), ("html", "not FHIR JSON")],
)
def test_a_redirecting_or_non_json_fhir_server_is_a_412_not_a_500(
    tmp_path: Path, knowledge: Knowledge, keys: Keys, fhir_server: str, mode: str, expect: str
) -> None:
    Recorder.mode = mode
    client = _fetching(tmp_path, knowledge, keys, allowed=[fhir_server])
    response = _call(client, keys.token(), _no_prefetch(fhir_server))
    assert response.status_code == 412, response.text
    assert expect in response.json()["detail"]
    assert len(Recorder.seen) == 1  # the redirect was not followed


# --- the real server: `cmvcds serve` with two worker processes --------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(tmp_path: Path, *args: str, env: dict[str, str]) -> tuple[Any, str]:
    import os
    import subprocess
    import sys

    import httpx

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cmvcds", "serve", "--port", str(port), "--no-demo", *args],
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "CMVCDS_DATABASE_URL": f"sqlite:///{tmp_path / 'served.sqlite3'}",
            **env,
        },
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise AssertionError(
        f"cmvcds serve did not start: {process.stderr.read() if process.stderr else ''}"
    )


def _stop(process: Any) -> str:
    process.terminate()
    try:
        _, stderr = process.communicate(timeout=20)
    except Exception:
        process.kill()
        _, stderr = process.communicate()
    return str(stderr)


def test_serve_refuses_unsigned_calls_and_says_when_it_does_not(tmp_path: Path) -> None:
    import httpx

    body = load("pregnancy-valacyclovir.request.json")
    process, base = _serve(tmp_path, env={})
    try:
        refused = httpx.post(f"{base}{SERVICE}", json=body, timeout=30)
    finally:
        stderr = _stop(process)
    assert refused.status_code == 401
    assert "CDS Hooks calls are refused until CMVCDS_CDS_TRUSTED_ISSUERS" in stderr
    process, base = _serve(tmp_path, "--insecure-no-jwt", env={})
    try:
        answered = httpx.post(f"{base}{SERVICE}", json=body, timeout=30)
    finally:
        stderr = _stop(process)
    assert answered.status_code == 200
    assert "WARNING: CDS Hooks JWT verification is OFF (--insecure-no-jwt)" in stderr


def test_two_workers_share_the_replay_cache(tmp_path: Path, keys: Keys) -> None:
    import httpx

    (tmp_path / "jwks.json").write_text(json.dumps(keys.jwks))
    process, base = _serve(
        tmp_path,
        "--workers",
        "2",
        env={"CMVCDS_CDS_TRUSTED_ISSUERS": json.dumps({SANDBOX: str(tmp_path / "jwks.json")})},
    )
    body = load("pregnancy-valacyclovir.request.json")
    try:
        token = keys.token(aud=f"{base}{SERVICE}")
        statuses = []
        for _ in range(8):  # a new connection each time: either worker may answer
            with httpx.Client(timeout=30) as client:
                response = client.post(
                    f"{base}{SERVICE}", json=body, headers={"Authorization": f"Bearer {token}"}
                )
            statuses.append(response.status_code)
    finally:
        _stop(process)
    assert statuses == [200] + [401] * 7


def test_the_jwks_is_fetched_from_the_configured_url(
    tmp_path: Path, knowledge: Knowledge, keys: Keys
) -> None:
    """As with the sandbox: the issuer's JWKS at a URL (configured here, never the token's jku)."""

    class Jwks(BaseHTTPRequestHandler):
        hits: ClassVar[list[str]] = []

        def do_GET(self) -> None:
            Jwks.hits.append(self.path)
            body = json.dumps(keys.jwks).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            demo_cases=False,
            cds_trusted_issuers={SANDBOX: url},
        )
        client = TestClient(
            create_app(settings, Clinic(knowledge, today=lambda: TODAY)),
            raise_server_exceptions=False,
        )
        assert _call(client, keys.token()).status_code == 200
        unknown = _call(client, keys.token(headers={"kid": "rotated-away"}))
        assert unknown.status_code == 401 and "no key 'rotated-away'" in unknown.json()["detail"]
    finally:
        server.shutdown()
        server.server_close()
    assert Jwks.hits and set(Jwks.hits) == {"/.well-known/jwks.json"}


def _decision_cards(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.text
    return [
        (c["indicator"], c["summary"])
        for c in response.json()["cards"]
        if "not of this patient" not in c["summary"]
    ]


def _foreign_detail(response: Any) -> str:
    card = next(c for c in response.json()["cards"] if "not of this patient" in c["summary"])
    assert card["indicator"] == "warning"
    return str(card["detail"])


def test_signed_call_with_another_patients_creatinine_keeps_the_advice_of_the_record(
    client: TestClient, keys: Keys
) -> None:
    """PROBE1 D4, as probed: with a valid signed JWT, the creatinine moved to another patient
    with value 1.5 turned the card to "excluded". It is now not used and named; the cards are
    those of the record without it: her own creatinine is missing, so "insufficient data"
    naming it (rule A7), never the other patient's exclusion."""
    body = load("pregnancy-valacyclovir.request.json")
    entries = body["prefetch"]["observations"]["entry"]
    creatinine = next(e for e in entries if e["resource"]["id"] == "obs-8")
    without = json.loads(json.dumps(body))
    without["prefetch"]["observations"]["entry"].remove(creatinine)
    creatinine["resource"]["subject"] = {"reference": "Patient/someone-else"}
    creatinine["resource"]["valueQuantity"]["value"] = 1.5
    given = _call(client, keys.token(), body)
    alone = _call(client, keys.token(), without)
    assert _decision_cards(given) == _decision_cards(alone)
    assert any("insufficient data" in s for _, s in _decision_cards(given))
    assert (
        "Observation/obs-8 not used: its subject 'Patient/someone-else' is another patient, "
        "not Patient/p-preg-1"
    ) in _foreign_detail(given)
    # read as hers, the same 1.5 excludes valacyclovir: the test can fail
    creatinine["resource"]["subject"] = {"reference": "Patient/p-preg-1"}
    assert _decision_cards(_call(client, keys.token(), body)) != _decision_cards(alone)


def test_signed_call_whose_results_are_all_another_patients_advises_nothing_and_says_so(
    client: TestClient, keys: Keys
) -> None:
    body = load("pregnancy-valacyclovir.request.json")
    for entry in body["prefetch"]["observations"]["entry"]:
        entry["resource"]["subject"] = {"reference": "Patient/someone-else"}
    given = _call(client, keys.token(), body)
    assert _decision_cards(given) == []  # as for a record without results: no CMV, no advice
    detail = _foreign_detail(given)
    assert all(f"Observation/obs-{n} not used" in detail for n in range(1, 12))


def test_signed_call_with_another_patients_patient_resource_does_not_use_it(
    client: TestClient, keys: Keys
) -> None:
    """The Patient ``OTHER`` (a man born in 1950) is not the context patient: his sex and age
    are not read, so nothing says the case is a man's (which would silence the card)."""
    body = load("pregnancy-valacyclovir.request.json")
    body["prefetch"]["patient"] = {**body["prefetch"]["patient"], "id": "OTHER"}
    body["prefetch"]["patient"].update(gender="male", birthDate="1950-01-01")
    given = _call(client, keys.token(), body)
    assert "Patient/OTHER not used: it is another patient" in _foreign_detail(given)
    assert not any("recommended" in s for _, s in _decision_cards(given))


def test_more_concurrent_verified_calls_than_worker_threads_all_answer(
    tmp_path: Path, knowledge: Knowledge, keys: Keys
) -> None:
    """Twelve verified calls at once with four worker threads (the default pool has forty:
    forty-one callers hung a worker for good when a call held its thread while its jti claim
    waited for a commit that needed a thread of the same pool). Every call answers, and so does
    the liveness probe (a plain function: a worker thread)."""
    import asyncio

    import anyio.to_thread
    import httpx

    app = create_app(_settings(tmp_path, keys), Clinic(knowledge, today=lambda: TODAY))
    body = load("pregnancy-valacyclovir.request.json")

    async def calls() -> tuple[bool, list[int]]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = 4
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            tasks = [
                asyncio.ensure_future(
                    http.post(SERVICE, json=body, headers={"Authorization": f"Bearer {token}"})
                )
                for token in [keys.token() for _ in range(12)]
            ]
            tasks.append(asyncio.ensure_future(http.get("/api/v1/healthz")))
            _, pending = await asyncio.wait(tasks, timeout=10)
            limiter.total_tokens = 40  # a hung loop gets its threads back, so the test ends
            answers = await asyncio.gather(*tasks)
        return not pending, [a.status_code for a in answers]

    loop = asyncio.new_event_loop()  # not asyncio.run: the thread's current loop stays as it was
    try:
        in_time, statuses = loop.run_until_complete(calls())
    finally:
        loop.close()
    assert statuses == [200] * 13
    assert in_time, "calls hung until more threads were given"


def test_a_jti_claim_behind_a_held_write_lock_answers_503_and_no_cards(
    tmp_path: Path, client: TestClient, keys: Keys
) -> None:
    """Another transaction holds the database's write lock: the call's id cannot be recorded
    within the lock timeout, so the call is answered 503 with Retry-After, as a card write is
    (not 500), shows no card, and the same token is accepted once the lock is gone (its id was
    never recorded)."""
    import sqlite3

    from cmvcds.registry.db import LOCK_TIMEOUT_MS

    token = keys.token()
    with client:
        assert _call(client, keys.token()).status_code == 200  # the tables exist
        holder = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            busy = _call(client, token)
            waited = time.monotonic() - started
        finally:
            holder.rollback()
            holder.close()
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert "busy" in busy.json()["detail"] and "cards" not in busy.json()
        assert waited < LOCK_TIMEOUT_MS / 1000 + 1.0, waited
        assert _call(client, token).status_code == 200
        assert _call(client, token).status_code == 401  # and now it is a replay
