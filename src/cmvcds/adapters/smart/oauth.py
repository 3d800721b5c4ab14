"""The OAuth 2.0 steps of a SMART App Launch 2.x, as a public client with PKCE (S256).

SMART App Launch 2.2 (hl7.org/fhir/smart-app-launch/app-launch.html): the app reads the FHIR
server's ``.well-known/smart-configuration``, sends the browser to its ``authorization_endpoint``
with ``response_type=code``, ``client_id``, ``redirect_uri``, ``scope``, ``state``, ``aud`` (the
FHIR base URL), ``launch`` (EHR launch only) and ``code_challenge``/``code_challenge_method=S256``
(RFC 7636), then trades the code for an access token at the ``token_endpoint`` with its
``code_verifier``. The token response carries the patient in context (``patient``).

Refused here, each with one line: a configuration that is not JSON or lacks either endpoint, an
endpoint that is not https, a server that does not offer S256 (the spec: S256 SHALL be offered,
``plain`` SHALL NOT be used), a token response without ``access_token``, a Bearer type or a
patient. No redirect is followed; answers are bounded in time.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from cmvcds.adapters.web.i18n import N_
from cmvcds.adapters.web.i18n import gettext as _

__all__ = [
    "LaunchRefused",
    "SmartConfiguration",
    "TokenResponse",
    "authorize_url",
    "code_challenge",
    "discover",
    "exchange_code",
    "new_secret",
]

#: The largest configuration or token answer read.
MAX_ANSWER_BYTES = 100_000


class LaunchRefused(Exception):
    """The launch cannot go on; the message says why (shown to the clinician, no secrets)."""


class SmartConfiguration(BaseModel):
    """The fields of ``.well-known/smart-configuration`` this app relies on."""

    model_config = ConfigDict(extra="allow")

    authorization_endpoint: str
    token_endpoint: str
    code_challenge_methods_supported: list[str] = []
    capabilities: list[str] = []


class TokenResponse(BaseModel):
    """The token endpoint's answer (SMART App Launch 2.2 §Response to access token request)."""

    model_config = ConfigDict(extra="allow")

    access_token: str
    token_type: str
    scope: str | None = None
    expires_in: int | None = None
    patient: str | None = None


def new_secret() -> str:
    """A random URL-safe text of 256 bits (``state``, ``code_verifier``, the session cookie)."""
    return secrets.token_urlsafe(32)


def code_challenge(verifier: str) -> str:
    """RFC 7636 §4.2 S256: BASE64URL(SHA256(ASCII(code_verifier))), without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _https(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or parts.username or parts.password:
        raise LaunchRefused(_("the %(what)s %(url)s is not an https URL") % {"what": _(what), "url": repr(url)})
    return url


def _json(response: httpx.Response, what: str) -> Any:
    if len(response.content) > MAX_ANSWER_BYTES:
        raise LaunchRefused(
            _("the %(what)s is larger than %(size)s bytes")
            % {"what": _(what), "size": f"{MAX_ANSWER_BYTES:,}"}
        )
    try:
        return response.json()
    except ValueError:
        raise LaunchRefused(_("the %(what)s is not JSON") % {"what": _(what)}) from None


def discover(client: httpx.Client, iss: str) -> SmartConfiguration:
    """The server's SMART configuration, checked (endpoints https, S256 offered)."""
    url = iss.rstrip("/") + "/.well-known/smart-configuration"
    try:
        response = client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise LaunchRefused(
            _("the SMART configuration of %(iss)s could not be read (%(error)s)")
            % {"iss": iss, "error": type(error).__name__}
        ) from None
    if response.status_code != 200:
        raise LaunchRefused(
            _("the SMART configuration of %(iss)s answered %(status)s")
            % {"iss": iss, "status": response.status_code}
        )
    try:
        config = SmartConfiguration.model_validate(_json(response, N_("SMART configuration")))
    except ValidationError as error:
        fields = ", ".join(str(e["loc"][0]) for e in error.errors() if e["loc"])
        raise LaunchRefused(
            _("the SMART configuration of %(iss)s lacks or breaks: %(fields)s")
            % {"iss": iss, "fields": fields}
        ) from None
    _https(config.authorization_endpoint, N_("authorization endpoint"))
    _https(config.token_endpoint, N_("token endpoint"))
    if "S256" not in config.code_challenge_methods_supported:
        raise LaunchRefused(
            _("the authorization server of %(iss)s does not offer PKCE with S256 (%(field)s); cmvcds launches only with S256")
            % {"iss": iss, "field": "code_challenge_methods_supported"}
        )
    return config


def authorize_url(
    config: SmartConfiguration,
    *,
    client_id: str,
    redirect_uri: str,
    scope: str,
    state: str,
    aud: str,
    verifier: str,
    launch: str | None,
) -> str:
    """Where the browser goes to authorize the launch."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "aud": aud,
        "code_challenge": code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    if launch is not None:
        query["launch"] = launch
    separator = "&" if urlsplit(config.authorization_endpoint).query else "?"
    return config.authorization_endpoint + separator + urlencode(query)


def exchange_code(
    client: httpx.Client,
    token_endpoint: str,
    *,
    code: str,
    redirect_uri: str,
    client_id: str,
    verifier: str,
) -> TokenResponse:
    """Trade the authorization code for an access token (public client: ``client_id`` in the
    body, no secret; the PKCE verifier proves the code was asked for by this app)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "code_verifier": verifier,
    }
    try:
        response = client.post(
            _https(token_endpoint, N_("token endpoint")),
            data=form,
            headers={"Accept": "application/json"},
        )
    except httpx.HTTPError as error:
        raise LaunchRefused(
            _("the token endpoint could not be reached (%(error)s)") % {"error": type(error).__name__}
        ) from None
    body = _json(response, N_("token response"))
    if response.status_code != 200:
        error = body.get("error", "?") if isinstance(body, dict) else "?"
        raise LaunchRefused(
            _("the authorization server refused the code (%(status)s %(error)s)")
            % {"status": response.status_code, "error": error}
        )
    try:
        token = TokenResponse.model_validate(body)
    except ValidationError:
        raise LaunchRefused(_("the token response has no access_token or token_type")) from None
    if token.token_type.lower() != "bearer":
        raise LaunchRefused(_("token type %(type)s is not Bearer") % {"type": repr(token.token_type)})
    if not token.patient:
        raise LaunchRefused(_("the EHR gave no patient in context (token response: patient)"))
    return token
