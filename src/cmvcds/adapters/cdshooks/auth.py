"""JWT of the calling EHR (CDS Hooks 2.0.1 §Trusting CDS Clients), verified when configured.

``CMVCDS_CDS_TRUSTED_ISSUERS`` maps each trusted issuer to its JWKS (a URL or a file). The token
must be signed by a key of that set, name this service's endpoint as its audience, carry ``exp``,
``iat`` and ``jti``, and not be replayed.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import jwt

__all__ = ["JwtVerifier", "Unauthorized"]

ALGORITHMS = ["RS384", "ES384", "RS256", "ES256", "RS512", "ES512"]


class Unauthorized(Exception):
    """The request's JWT is missing or does not verify."""


class JwtVerifier:
    def __init__(self, issuers: dict[str, str]) -> None:
        self.issuers = issuers
        self._clients: dict[str, Any] = {}
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.issuers)

    def _key(self, issuer: str, token: str) -> Any:
        source = self.issuers[issuer]
        if source.startswith(("http://", "https://")):
            client = self._clients.setdefault(issuer, jwt.PyJWKClient(source, cache_keys=True))
            return client.get_signing_key_from_jwt(token).key
        keys = jwt.PyJWKSet.from_dict(json.loads(Path(source).read_text(encoding="utf-8")))
        kid = jwt.get_unverified_header(token).get("kid")
        for key in keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise Unauthorized(f"no key {kid!r} in the JWKS of {issuer}")

    def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("a Bearer JWT is required")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            if issuer not in self.issuers:
                raise Unauthorized(f"issuer {issuer!r} is not trusted")
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key(issuer, token),
                algorithms=ALGORITHMS,
                audience=audience,
                issuer=issuer,
                options={"require": ["exp", "iat", "jti", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"JWT refused: {error}") from None
        now = time.time()
        with self._lock:
            self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
            if claims["jti"] in self._seen:
                raise Unauthorized("JWT replayed (jti already seen)")
            self._seen[claims["jti"]] = float(claims["exp"])
        return claims
