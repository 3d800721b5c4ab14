"""The OAuth 2.0 steps of a SMART App Launch 2.x, as a public client with PKCE (S256).

SMART App Launch 2.2 (hl7.org/fhir/smart-app-launch/app-launch.html): the app reads the FHIR
server's ``.well-known/smart-configuration``, sends the browser to its ``authorization_endpoint``
with ``response_type=code``, ``client_id``, ``redirect_uri``, ``scope``, ``state``, ``aud`` (the
FHIR base URL), ``launch`` (EHR launch only) and ``code_challenge``/``code_challenge_method=S256``
(RFC 7636), then trades the code for an access token at the ``token_endpoint`` with its
``code_verifier``. The token response carries the patient in context (``patient``).

When the server offers ``sso-openid-connect`` (with its ``issuer`` and ``jwks_uri``), the app also
asks for ``openid fhirUser`` and a ``nonce``; the ``id_token`` that comes back is an OpenID Connect
ID token (OpenID Connect Core 1.0 §3.1.3.7) checked here: signed (RS256 or ES256/ES384, the key
by its ``kid`` from the server's JWKS), ``iss`` the server's issuer, ``aud`` our client id, not
expired (60 s leeway), and the ``nonce`` we sent. Its ``fhirUser`` claim says who signed in. With
``permission-online`` it asks for ``online_access``: the refresh token then renews the access
token when it expires (``refresh``), while the clinician's session lasts.

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
import jwt
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
    "launch_scopes",
    "new_secret",
    "refresh",
    "verify_id_token",
]

#: The largest configuration or token answer read.
MAX_ANSWER_BYTES = 100_000
#: What an answer or URL is, in the refusals (translated when said).
TOKEN_ENDPOINT = N_("token endpoint")
JWKS_URL = N_("JWKS URL")


class LaunchRefused(Exception):
    """The launch cannot go on; the message says why (shown to the clinician, no secrets)."""


class SmartConfiguration(BaseModel):
    """The fields of ``.well-known/smart-configuration`` this app relies on."""

    model_config = ConfigDict(extra="allow")

    authorization_endpoint: str
    token_endpoint: str
    code_challenge_methods_supported: list[str] = []
    capabilities: list[str] = []
    issuer: str | None = None
    jwks_uri: str | None = None

    @property
    def openid(self) -> bool:
        """Whether the server signs users in with OpenID Connect (and says how to check it)."""
        return "sso-openid-connect" in self.capabilities and bool(self.issuer and self.jwks_uri)


class TokenResponse(BaseModel):
    """The token endpoint's answer (SMART App Launch 2.2 §Response to access token request)."""

    model_config = ConfigDict(extra="allow")

    access_token: str
    token_type: str
    scope: str | None = None
    expires_in: int | None = None
    patient: str | None = None
    id_token: str | None = None
    refresh_token: str | None = None


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
        raise LaunchRefused(
            _("the %(what)s %(url)r is not an https URL") % {"what": _(what), "url": url}
        )
    return url


def _json(response: httpx.Response, what: str) -> Any:
    if len(response.content) > MAX_ANSWER_BYTES:
        raise LaunchRefused(
            _("the %(what)s is larger than %(bytes)s bytes")
            % {"what": _(what), "bytes": f"{MAX_ANSWER_BYTES:,}"}
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
    _https(config.token_endpoint, TOKEN_ENDPOINT)
    if config.jwks_uri:
        _https(config.jwks_uri, JWKS_URL)
    if "S256" not in config.code_challenge_methods_supported:
        raise LaunchRefused(
            _(
                "the authorization server of %(iss)s does not offer PKCE with S256 "
                "(code_challenge_methods_supported); cmvcds launches only with S256"
            )
            % {"iss": iss}
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
    nonce: str | None = None,
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
    if nonce is not None:
        query["nonce"] = nonce
    separator = "&" if urlsplit(config.authorization_endpoint).query else "?"
    return config.authorization_endpoint + separator + urlencode(query)


def launch_scopes(config: SmartConfiguration, kind: str, resource_scopes: str) -> str:
    """The scopes asked for: the launch context, the resources, and ``openid fhirUser`` /
    ``online_access`` where the server offers OpenID Connect / online refresh tokens."""
    scopes = ["launch" if kind == "ehr" else "launch/patient"]
    if config.openid:
        scopes += ["openid", "fhirUser"]
    if "permission-online" in config.capabilities:
        scopes.append("online_access")
    return " ".join([*scopes, resource_scopes])


def _token_request(
    client: httpx.Client, token_endpoint: str, form: dict[str, str]
) -> TokenResponse:
    try:
        response = client.post(
            _https(token_endpoint, TOKEN_ENDPOINT),
            data=form,
            headers={"Accept": "application/json"},
        )
    except httpx.HTTPError as error:
        raise LaunchRefused(
            _("the token endpoint could not be reached (%(error)s)")
            % {"error": type(error).__name__}
        ) from None
    body = _json(response, N_("token response"))
    if response.status_code != 200:
        code = body.get("error", "?") if isinstance(body, dict) else "?"
        raise LaunchRefused(
            _("the authorization server refused the %(grant)s grant (%(status)s %(error)s)")
            % {"grant": form["grant_type"], "status": response.status_code, "error": code}
        )
    try:
        token = TokenResponse.model_validate(body)
    except ValidationError:
        raise LaunchRefused(_("the token response has no access_token or token_type")) from None
    if token.token_type.lower() != "bearer":
        raise LaunchRefused(_("token type %(type)r is not Bearer") % {"type": token.token_type})
    return token


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
    token = _token_request(client, token_endpoint, form)
    if not token.patient:
        raise LaunchRefused(_("the EHR gave no patient in context (token response: patient)"))
    return token


def refresh(
    client: httpx.Client, token_endpoint: str, *, refresh_token: str, client_id: str
) -> TokenResponse:
    """A new access token for an expired one (SMART App Launch 2.2 §Refresh access token;
    RFC 6749 §6): the answer may carry a new refresh token, which replaces the old one."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return _token_request(client, token_endpoint, form)


#: ID token signature algorithms accepted (SMART asks servers for RS256; ES256/ES384 are common).
ID_TOKEN_ALGORITHMS = ["RS256", "ES256", "ES384"]
#: Clock skew allowed on ``exp``/``iat`` between the EHR and cmvcds.
LEEWAY_S = 60


def verify_id_token(
    client: httpx.Client,
    config: SmartConfiguration,
    id_token: str,
    *,
    client_id: str,
    nonce: str,
) -> str | None:
    """Check the OpenID Connect ID token as the launch asked for it; returns its ``fhirUser``
    (a FHIR resource URL of the user who signed in), or None when the server gave none."""
    if not config.openid or config.jwks_uri is None:
        raise LaunchRefused(_("an id_token came from a server that does not offer OpenID Connect"))
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.InvalidTokenError:
        raise LaunchRefused(_("the id_token is not a JWT")) from None
    if header.get("alg") not in ID_TOKEN_ALGORITHMS or not header.get("kid"):
        raise LaunchRefused(
            _("the id_token is signed with %(alg)r or names no key (kid): refused")
            % {"alg": header.get("alg")}
        )
    try:
        response = client.get(
            _https(config.jwks_uri, JWKS_URL), headers={"Accept": "application/json"}
        )
        keys = jwt.PyJWKSet.from_dict(_json(response, N_("JWKS")))
        key = next(k for k in keys.keys if k.key_id == header["kid"])
    except httpx.HTTPError as error:
        raise LaunchRefused(
            _("the JWKS could not be read (%(error)s)") % {"error": type(error).__name__}
        ) from None
    except (jwt.PyJWKSetError, StopIteration):
        raise LaunchRefused(
            _("the JWKS has no usable key %(kid)r") % {"kid": header["kid"]}
        ) from None
    try:
        claims = jwt.decode(
            id_token,
            key=key,
            algorithms=ID_TOKEN_ALGORITHMS,
            audience=client_id,
            issuer=config.issuer,
            leeway=LEEWAY_S,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.InvalidTokenError as error:
        raise LaunchRefused(_("the id_token is not valid (%(error)s)") % {"error": error}) from None
    if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(
        claims["nonce"], nonce
    ):
        raise LaunchRefused(_("the id_token's nonce is not the one this launch sent"))
    user = claims.get("fhirUser")
    return str(user) if user else None
