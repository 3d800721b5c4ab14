"""Who may reach the clinician's pages and stored cases: nobody without a login, outside the demo.

In ``production`` mode (``CMVCDS_MODE=production``; what ``cmvcds serve`` runs unless ``--demo``)
every path is closed except the public ones below: a request needs a live session of the
registry (its login page, its users, its argon2id passwords and expiring sessions — the cookie
of ``/registry/login`` or the bearer token of ``POST /api/v1/registry/sessions``) of a user whose
role is one of ``clinical_roles`` (the sites' clinicians by default). Pages without one are sent
to the login page; API calls get a 401 (403 for a role that may not) as problem+json.

Public: the static files, the knowledge (what the software knows, no patient in it), health and
version, the OpenAPI document, the registry (its own access rules) and the CDS Hooks services
(their own JWT). The ``demo`` mode keeps every page open and says so in a banner on each page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import anyio

from cmvcds.adapters.api.guard import ASGIApp, Receive, Scope, Send
from cmvcds.adapters.api.settings import Settings
from cmvcds.errors import AccessDenied

__all__ = ["PUBLIC_PREFIXES", "ClinicalAccess"]

COOKIE = "cmvcds_registry"  # the registry's session cookie (adapters/web/registry/routes.py)
SMART_COOKIE = "cmvcds_smart"  # a SMART launch's session cookie (adapters/smart/routes.py)
PUBLIC_PREFIXES = (
    "/static/",
    "/knowledge",
    "/api/v1/knowledge",
    "/api/v1/healthz",
    "/readyz",
    "/api/v1/version",
    "/openapi.json",
    "/registry",
    "/api/v1/registry",
    "/cds-services",
    "/smart",  # the SMART launch: its own state, PKCE and session cookie (adapters/smart)
    "/lang/",  # the language switch (adapters/web/pages.py): before login too
)


class ClinicalAccess:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or self.settings.mode == "demo"
            or scope["method"] == "OPTIONS"
            or _public(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        token = _token(scope)
        role = await anyio.to_thread.run_sync(_role_of, scope["app"], token) if token else None
        if role is None and await anyio.to_thread.run_sync(_smart_opens, scope):
            await self.app(scope, receive, send)
            return
        if role is None:
            await _refuse(send, scope["path"], 401, "log in: a session of the registry is needed")
        elif role not in {str(r) for r in self.settings.clinical_roles}:
            await _refuse(send, scope["path"], 403, f"the role {role} may not see clinical cases")
        else:
            await self.app(scope, receive, send)


def _smart_opens(scope: Scope) -> bool:
    """The browser's SMART session (``/smart/callback``) opens the case it launched, its pages
    and files (``/cases/<key>``, ``/cases/<key>/…``), and nothing else."""
    from cmvcds.adapters.smart import launches

    session = _cookie(scope, SMART_COOKIE)
    if session is None or not scope["path"].startswith("/cases/"):
        return False
    opened = launches.session_case(scope["app"].state.store.engine, session)
    if opened is None:
        return False
    case = f"/cases/{opened[0]}"
    return bool(scope["path"] == case or scope["path"].startswith(case + "/"))


def _cookie(scope: Scope, name: str) -> str | None:
    raw: Iterable[tuple[bytes, bytes]] = scope["headers"]  # ASGI: (name, value) byte pairs
    for key, value in raw:
        if key.lower() == b"cookie":
            for part in value.decode("latin-1").split(";"):
                found, _, content = part.strip().partition("=")
                if found == name and content:
                    return content
    return None


def _public(path: str) -> bool:
    return any(
        path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in PUBLIC_PREFIXES
    )


def _token(scope: Scope) -> str | None:
    headers: dict[str, str] = {
        k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
    }
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


def _role_of(app: Any, token: str) -> str | None:
    """The role of the session's user, or None (no such session, expired, inactive user)."""
    from cmvcds.registry import migrate
    from cmvcds.registry.db import Registry
    from cmvcds.registry.security import resolve_session

    registry = getattr(app.state, "registry", None)
    if registry is None:  # the registry pages set the same on their first use
        registry = Registry(app.state.settings.database_url)
        migrate.upgrade(registry.engine)
        app.state.registry = registry
    with registry.session(None) as session:
        try:
            user, _ = resolve_session(session, token, now=datetime.now(UTC))
        except AccessDenied:
            return None
        return str(user.role)


async def _refuse(send: Send, path: str, status: int, detail: str) -> None:
    if path.startswith("/api/"):
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Not authenticated" if status == 401 else "Forbidden",
                "status": status,
                "detail": detail,
            }
        ).encode()
        headers = [(b"content-type", b"application/problem+json")]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
    elif status == 401:
        body = b""
        headers = [(b"location", b"/registry/login")]
        status = 303
    else:
        body = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Not allowed</title>"
            f'<h1>Not allowed</h1><p>{detail}.</p><p><a href="/registry/">Registry</a></p></html>'
        ).encode()
        headers = [(b"content-type", b"text/html; charset=utf-8")]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
