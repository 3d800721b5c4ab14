"""JWT of the calling EHR (CDS Hooks 2.0.1 §Trusting CDS Clients), verified unless a local demo
explicitly turns it off (``cmvcds serve --insecure-no-jwt``).

``CMVCDS_CDS_TRUSTED_ISSUERS`` maps each trusted issuer to its JWKS (a URL or a file); the token's
own ``jku`` header is never followed (it would let the caller name the key that signs it). The
token must:

- be signed with an asymmetric algorithm (RS/ES/PS 256–512; never ``none`` or HMAC) by the key its
  ``kid`` header names (``kid`` required) in its issuer's JWKS;
- name this service's endpoint as its audience, carry ``iss``, ``exp``, ``iat`` and ``jti``;
- be valid now within ``leeway_s`` of clock skew, not be issued in the future, and live at most
  ``max_lifetime_s`` (``exp - iat``; the specification recommends five minutes);
- not be replayed: ``verify`` hands the token's ``(iss, jti, exp + leeway)`` to ``claim``, which
  records it in the installation's database, shared by every worker process (the CDS route:
  ``CaseStore.claim_jtis`` through the event loop's ``GroupCommit``; the table's primary key
  refuses a second claim), and keeps it until the token expires. The call is refused unless its
  claim is committed first.

The signature is checked in a worker thread (CPU, and a JWKS URL may be fetched); the claim is
awaited on the event loop, holding no thread: a thread that waited for the claim's commit, which
itself needs a thread, hung a worker for good once every thread of the pool waited so.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jwt
from anyio import to_thread

__all__ = ["ALGORITHMS", "JwtVerifier", "Unauthorized"]

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"]

#: ``await claim(issuer, jti, expires_at) -> bool``: True once the id is durably recorded, False
#: when it was recorded before (a replay); a database error propagates (the call is not answered).
ClaimJti = Callable[[str, str, float], Awaitable[bool]]


class Unauthorized(Exception):
    """The request's JWT is missing or does not verify."""


class JwtVerifier:
    def __init__(
        self,
        issuers: dict[str, str],
        claim: ClaimJti,
        *,
        leeway_s: float = 60,
        max_lifetime_s: float = 3600,
        jwks_timeout_s: float = 10,
    ) -> None:
        self.issuers = issuers
        self.claim = claim
        self.leeway_s = leeway_s
        self.max_lifetime_s = max_lifetime_s
        self.jwks_timeout_s = jwks_timeout_s
        self._clients: dict[str, jwt.PyJWKClient] = {}

    def _key(self, issuer: str, kid: str) -> Any:
        source = self.issuers[issuer]
        if source.startswith(("http://", "https://")):
            client = self._clients.setdefault(
                issuer,
                jwt.PyJWKClient(source, cache_keys=True, timeout=int(self.jwks_timeout_s)),
            )
            try:
                return client.get_signing_key(kid).key
            except jwt.PyJWKClientError as error:
                raise Unauthorized(f"no key {kid!r} in the JWKS of {issuer}: {error}") from None
        keys = jwt.PyJWKSet.from_dict(json.loads(Path(source).read_text(encoding="utf-8")))
        for key in keys.keys:
            if key.key_id == kid:
                return key.key
        raise Unauthorized(f"no key {kid!r} in the JWKS of {issuer}")

    async def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """The claims of the call's token once it is checked (in a worker thread) and its
        ``jti`` claimed (awaited on the event loop); ``Unauthorized`` otherwise."""
        claims = await to_thread.run_sync(self.check, authorization, audience)
        if not await self.claim(claims["iss"], claims["jti"], float(claims["exp"]) + self.leeway_s):
            raise Unauthorized("JWT replayed (jti already seen)")
        return claims

    def check(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """The token's claims once its signature, audience, times and ``jti`` verify, its id not
        yet claimed (``verify`` does that). Blocking: a JWKS URL may be fetched."""
        if not self.issuers:
            raise Unauthorized(
                "no trusted CDS client is configured (CMVCDS_CDS_TRUSTED_ISSUERS); "
                "every call is refused"
            )
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():  # RFC 7235 §2.1: case-insensitive
            raise Unauthorized("a Bearer JWT is required")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS:
                raise Unauthorized(f"JWT algorithm {header.get('alg')!r} is not accepted")
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                raise Unauthorized("the JWT header has no kid")
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            if not isinstance(issuer, str) or issuer not in self.issuers:
                raise Unauthorized(f"issuer {issuer!r} is not trusted")
            key = self._key(issuer, kid)
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=ALGORITHMS,
                    audience=audience,
                    issuer=issuer,
                    leeway=self.leeway_s,
                    options={"require": ["exp", "iat", "jti", "iss", "aud"]},
                )
            except (TypeError, ValueError):
                # probe14 F7: a kid naming a key of another type (an EC key for an RS384 token)
                # made PyJWT raise TypeError, answered 500; it is a token that does not verify
                raise Unauthorized(
                    f"JWT refused: key {kid!r} of {issuer} is not a key for algorithm "
                    f"{header.get('alg')!r}"
                ) from None
        except jwt.PyJWTError as error:
            raise Unauthorized(f"JWT refused: {error}") from None
        exp, iat = float(claims["exp"]), float(claims["iat"])
        if exp - iat > self.max_lifetime_s:
            raise Unauthorized(
                f"JWT lives {exp - iat:.0f} s; at most {self.max_lifetime_s:.0f} s accepted"
            )
        if not isinstance(claims["jti"], str) or not claims["jti"] or len(claims["jti"]) > 200:
            raise Unauthorized("the JWT jti must be a text of 1–200 characters")
        return claims
