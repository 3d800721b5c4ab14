"""The OpenAPI ``securitySchemes``: how each operation is authenticated, stated in the document.

- ``registryBearer`` / ``registryCookie``: a registry session — the token of
  ``POST /api/v1/registry/sessions`` as ``Authorization: Bearer``, or the pages' cookie. Required
  by the registry's API and, in production mode, by every ``/api/v1`` operation that is not
  public (``clinical_access.PUBLIC_PREFIXES``); the document of a demo instance, where those are
  open, does not claim it (it describes the instance that serves it).
- ``cdsHooksJwt``: the CDS client's JWT (CDS Hooks 2.0 "Trusting CDS Clients"), signed with a
  key of a trusted issuer's JWKS, on the service and feedback calls; discovery is public.
"""

from __future__ import annotations

from typing import Any

from cmvcds.adapters.api.clinical_access import COOKIE, PUBLIC_PREFIXES

__all__ = ["SCHEMES", "add_security"]

SCHEMES: dict[str, dict[str, str]] = {
    "registryBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "Registry session token from POST /api/v1/registry/sessions.",
    },
    "registryCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": COOKIE,
        "description": "The registry pages' session cookie (same session as the bearer token).",
    },
    "cdsHooksJwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            "CDS Hooks client JWT (iss, sub, aud = the service URL, exp, jti; kid in the header) "
            "signed with a key of a trusted issuer's JWKS (CMVCDS_CDS_TRUSTED_ISSUERS)."
        ),
    },
}
_REGISTRY: list[dict[str, list[str]]] = [{"registryBearer": []}, {"registryCookie": []}]
_CDS: list[dict[str, list[str]]] = [{"cdsHooksJwt": []}]
_OPEN_REGISTRY = {("/api/v1/registry/sessions", "post")}


def add_security(schema: dict[str, Any], *, production: bool) -> None:
    """Declare the schemes and attach them to the operations that require them."""
    schema.setdefault("components", {})["securitySchemes"] = SCHEMES
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            if path.startswith("/cds-services/"):
                operation["security"] = _CDS
            elif path.startswith("/api/v1/registry"):
                if (path, method) not in _OPEN_REGISTRY:
                    operation["security"] = _REGISTRY
            elif (
                production and path.startswith("/api/v1/") and not path.startswith(PUBLIC_PREFIXES)
            ):
                operation["security"] = _REGISTRY
