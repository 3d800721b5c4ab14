"""A small but real EHR for the SMART tests: an OAuth 2.0 authorization server (authorization
code with PKCE S256, as SMART App Launch 2.2 asks of one) and a FHIR R4 server over TLS, run on
127.0.0.1 by uvicorn. Its records are the Bundles of the EHR corpus (``tests/fhir/ehr``).

It checks what a real one checks and no more: the client and redirect URI registered, the
audience, the PKCE challenge (S256 only) and verifier, single-use codes, the launch id it issued,
the bearer token on every FHIR read (and its expiry) and the patient compartment of the token.
As an OpenID Connect provider it signs an ``id_token`` (RS256, its JWKS at ``/auth/jwks``) with
the ``nonce`` it was sent and the user's ``fhirUser``; with ``online_access`` it issues refresh
tokens, single use (each refresh answers with a new one). Searches honour
``patient``, ``code`` (token), ``category``, ``_count`` (paging with ``link[next]``) and
``_sort=date``; it records every request it receives (``seen``) so tests can say that none came.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import ipaddress
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

__all__ = ["Ehr", "self_signed"]

RESOURCE_TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationAdministration",
    "DiagnosticReport",
    "AllergyIntolerance",
)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (IP address in its subjectAltName) and its key, as PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "ehr-cert.pem", folder / "ehr-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Ehr:
    """The EHR's state: its records, registered client, launches, codes and tokens."""

    client_id: str
    redirect_uri: str
    base: str = ""  # https://127.0.0.1:<port>, set when served
    offer_s256: bool = True
    max_count: int = 1000  # the most entries it returns per page, whatever _count asks
    resources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    launches: dict[str, str] = field(default_factory=dict)  # launch id → patient
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # approval id → request
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    openid: bool = True  # offers sso-openid-connect (and signs id_tokens)
    online: bool = True  # offers permission-online (refresh tokens with online_access)
    access_ttl_s: int = 3600
    user: str = "Practitioner/dr-rossi"  # the fhirUser of whoever approves
    refresh_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: what the next id_token says differently (a test forging one: {"aud": "other"}, …)
    id_token_changes: dict[str, Any] = field(default_factory=dict)
    signing_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    kid: str = "ehr-2026"
    #: resources a faulty EHR returns in every search of their type, whoever's they are
    strays: list[dict[str, Any]] = field(default_factory=list)
    forger: rsa.RSAPrivateKey | None = None  # signs the id_token instead of the JWKS's key

    @property
    def fhir(self) -> str:
        return f"{self.base}/fhir"

    def load(self, prefetch: dict[str, Any]) -> None:
        """Add the resources of a CDS request's prefetch (resources and searchset Bundles)."""
        for value in prefetch.values():
            entries = (
                [e["resource"] for e in value.get("entry") or []]
                if value.get("resourceType") == "Bundle"
                else [value]
            )
            for resource in entries:
                self.resources.setdefault(resource["resourceType"], []).append(resource)

    def new_launch(self, patient: str) -> str:
        """The EHR opens the app for ``patient``: an opaque launch id it will recognise."""
        launch = secrets.token_urlsafe(12)
        self.launches[launch] = patient
        return launch

    # --- authorization server -----------------------------------------------------------

    def configuration(self, request: Request) -> Response:
        self.seen.append(str(request.url.path))
        return JSONResponse(
            {
                "issuer": self.base,
                "authorization_endpoint": f"{self.base}/auth/authorize",
                "token_endpoint": f"{self.base}/auth/token",
                "grant_types_supported": ["authorization_code"],
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"] if self.offer_s256 else ["plain"],
                "scopes_supported": ["launch", "launch/patient", "patient/*.rs"],
                "jwks_uri": f"{self.base}/auth/jwks",
                "capabilities": [
                    "launch-ehr",
                    "launch-standalone",
                    "client-public",
                    "context-ehr-patient",
                    "context-standalone-patient",
                    "permission-v2",
                    *(["permission-online"] if self.online else []),
                    *(["sso-openid-connect"] if self.openid else []),
                ],
            }
        )

    def jwks(self, request: Request) -> Response:
        self.seen.append(str(request.url.path))
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.signing_key.public_key()))
        return JSONResponse({"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]})

    def id_token(self, nonce: str, audience: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.base,
            "sub": self.user.rsplit("/", 1)[-1],
            "aud": audience,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "fhirUser": f"{self.fhir}/{self.user}",
            **self.id_token_changes,
        }
        key = self.forger or self.signing_key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})

    def _issue(self, patient: str, scope: str, nonce: str | None) -> dict[str, Any]:
        """A token response: access token, and refresh token and id_token when asked for."""
        token = secrets.token_urlsafe(24)
        self.tokens[token] = {"patient": patient, "expires_at": time.time() + self.access_ttl_s}
        answer: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.access_ttl_s,
            "scope": scope,
            "patient": patient,
        }
        scopes = scope.split()
        if "online_access" in scopes or "offline_access" in scopes:
            refresh = secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = {"patient": patient, "scope": scope}
            answer["refresh_token"] = refresh
        if "openid" in scopes and nonce is not None:
            answer["id_token"] = self.id_token(nonce, self.client_id)
        return answer

    def authorize(self, request: Request) -> Response:
        self.seen.append(str(request.url.path))
        q = request.query_params
        if q.get("client_id") != self.client_id or q.get("redirect_uri") != self.redirect_uri:
            return HTMLResponse("unknown client or redirect URI", 400)

        def error(code: str) -> Response:
            query = urlencode({"error": code, "state": q.get("state", "")})
            return RedirectResponse(f"{self.redirect_uri}?{query}", 302)

        if q.get("response_type") != "code" or not q.get("state"):
            return error("invalid_request")
        if q.get("code_challenge_method") != "S256" or len(q.get("code_challenge", "")) != 43:
            return error("invalid_request")  # PKCE S256 is required of every client
        if q.get("aud", "").rstrip("/") != self.fhir:
            return error("invalid_request")
        scopes = q.get("scope", "").split()
        if "launch" in scopes:
            patient = self.launches.pop(q.get("launch", ""), None)
            if patient is None:
                return error("invalid_request")  # a launch id this EHR never issued
            patients = [patient]
        elif "launch/patient" in scopes:
            patients = [p["id"] for p in self.resources.get("Patient", [])]
        else:
            return error("invalid_scope")
        approval = secrets.token_urlsafe(12)
        self.pending[approval] = {
            "challenge": q["code_challenge"],
            "state": q["state"],
            "scope": q.get("scope", ""),
            "nonce": q.get("nonce"),
        }
        options = "".join(
            f'<option value="{html.escape(p)}">{html.escape(p)}</option>' for p in patients
        )
        page = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>EHR sign-in</title>"
            "<h1>Test EHR: authorize cmvcds</h1>"
            f'<form method="post" action="/auth/approve"><input type=hidden name=approval value="{approval}">'
            f'<label>Patient <select name="patient">{options}</select></label>'
            '<button type="submit" id="approve">Approve</button></form></html>'
        )
        return HTMLResponse(page)

    async def approve(self, request: Request) -> Response:
        form = await request.form()
        asked = self.pending.pop(str(form.get("approval", "")), None)
        if asked is None:
            return HTMLResponse("unknown approval", 400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**asked, "patient": str(form["patient"])}
        query = urlencode({"code": code, "state": asked["state"]})
        return RedirectResponse(f"{self.redirect_uri}?{query}", 302)

    async def token(self, request: Request) -> Response:
        self.seen.append(str(request.url.path))
        form = await request.form()

        def refuse(code: str) -> Response:
            return JSONResponse({"error": code}, 400)

        if form.get("grant_type") == "refresh_token":
            if form.get("client_id") != self.client_id:
                return refuse("invalid_client")
            kept = self.refresh_tokens.pop(str(form.get("refresh_token", "")), None)  # single use
            if kept is None:
                return refuse("invalid_grant")
            answer = self._issue(kept["patient"], kept["scope"], None)
            return JSONResponse(answer, headers={"Cache-Control": "no-store"})
        if form.get("grant_type") != "authorization_code":
            return refuse("unsupported_grant_type")
        grant = self.codes.pop(str(form.get("code", "")), None)  # single use
        if grant is None:
            return refuse("invalid_grant")
        if form.get("client_id") != self.client_id or form.get("redirect_uri") != self.redirect_uri:
            return refuse("invalid_grant")
        verifier = str(form.get("code_verifier", ""))
        if not verifier or _s256(verifier) != grant["challenge"]:
            return refuse("invalid_grant")  # PKCE: the verifier must match the challenge
        answer = self._issue(grant["patient"], grant["scope"], grant.get("nonce"))
        return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # --- FHIR server --------------------------------------------------------------------

    def _granted(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        grant = self.tokens.get(token) if scheme == "Bearer" else None
        if grant is None or grant["expires_at"] < time.time():
            return None
        return str(grant["patient"])

    def read(self, request: Request) -> Response:
        self.seen.append(str(request.url))
        patient = self._granted(request)
        if patient is None:
            return JSONResponse(_outcome("login", "no valid bearer token"), 401)
        kind, ident = request.path_params["kind"], request.path_params["ident"]
        if kind == "Patient" and ident != patient:
            return JSONResponse(_outcome("forbidden", "outside the token's patient"), 403)
        for resource in self.resources.get(kind, []):
            if resource.get("id") == ident:
                return JSONResponse(resource, media_type="application/fhir+json")
        return JSONResponse(_outcome("not-found", f"{kind}/{ident}"), 404)

    def search(self, request: Request) -> Response:
        self.seen.append(str(request.url))
        patient = self._granted(request)
        if patient is None:
            return JSONResponse(_outcome("login", "no valid bearer token"), 401)
        kind = request.path_params["kind"]
        q = request.query_params
        if kind not in RESOURCE_TYPES:
            return JSONResponse(_outcome("not-supported", kind), 404)
        if q.get("patient", "").removeprefix("Patient/") != patient:
            return JSONResponse(_outcome("forbidden", "outside the token's patient"), 403)
        found = [r for r in self.resources.get(kind, []) if _matches(r, q, patient)]
        found += [r for r in self.strays if r["resourceType"] == kind]
        if q.get("_sort") in ("date", "-date"):
            found.sort(key=_date, reverse=q["_sort"] == "-date")
        count = min(int(q.get("_count", str(self.max_count))), self.max_count)
        offset = int(q.get("_offset", "0"))
        page = found[offset : offset + count]
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "link": [{"relation": "self", "url": str(request.url)}],
            "entry": [
                {
                    "fullUrl": f"{self.fhir}/{kind}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in page
            ],
        }
        if offset + count < len(found):
            params = {k: v for k, v in q.items() if k != "_offset"}
            params["_offset"] = str(offset + count)
            bundle["link"].append(
                {"relation": "next", "url": f"{self.fhir}/{kind}?{urlencode(params)}"}
            )
        return JSONResponse(bundle, media_type="application/fhir+json")

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/fhir/.well-known/smart-configuration", self.configuration),
                Route("/auth/authorize", self.authorize),
                Route("/auth/approve", self.approve, methods=["POST"]),
                Route("/auth/token", self.token, methods=["POST"]),
                Route("/auth/jwks", self.jwks),
                Route("/fhir/{kind}/{ident}", self.read),
                Route("/fhir/{kind}", self.search),
            ]
        )


def _outcome(code: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }


def _subject(resource: dict[str, Any]) -> str | None:
    ref = (resource.get("subject") or resource.get("patient") or {}).get("reference")
    return None if ref is None else str(ref).removeprefix("Patient/")


def _codes(concept: Any) -> set[str]:
    found: set[str] = set()
    for coding in (concept or {}).get("coding") or []:
        found |= {str(coding.get("code")), f"{coding.get('system')}|{coding.get('code')}"}
    return found


def _matches(resource: dict[str, Any], q: Any, patient: str) -> bool:
    if _subject(resource) != patient:
        return False
    if "code" in q and not set(q["code"].split(",")) & _codes(resource.get("code")):
        return False
    if "category" in q:
        wanted = set(q["category"].split(","))
        if not any(wanted & _codes(c) for c in resource.get("category") or []):
            return False
    return True


def _date(resource: dict[str, Any]) -> str:
    for key in ("effectiveDateTime", "issued", "authoredOn", "effectivePeriod", "recordedDate"):
        value = resource.get(key)
        if isinstance(value, dict):
            value = value.get("start")
        if value:
            return str(value)
    return ""
