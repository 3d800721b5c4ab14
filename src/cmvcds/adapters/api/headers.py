"""Security headers on every response, and redirects that never follow the ``Host`` header.

- ``Content-Security-Policy``: scripts only from this server (htmx is served from ``/static``;
  no inline script, no ``eval``), no plugins, no framing (``frame-ancestors 'none'``), forms
  post only here. Inline *styles* stay allowed: the printable report and dossier are
  self-contained documents with a ``<style>`` block, and a few pages use ``style`` attributes;
  a style cannot run code.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (a case URL never leaks
  to another site), ``X-Frame-Options: DENY`` for older browsers.
- ``Cache-Control: no-store`` on everything but ``/static``: pages and API answers carry patient
  data, which must not stay in a shared or browser cache.
- An absolute ``Location`` that points at the request's own ``Host`` (Starlette's trailing-slash
  redirect builds one from that header) is made relative, so a forged ``Host`` cannot send a
  user elsewhere.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cmvcds.adapters.api.guard import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeaders"]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_FIXED = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_CACHEABLE = ("/static/",)


class SecurityHeaders:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        host = _header(scope, b"host")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _decorate(message, path, host)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _header(scope: MutableMapping[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _decorate(message: Message, path: str, host: str | None) -> None:
    headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
    present = {key.lower() for key, _ in headers}
    for key, value in _FIXED:
        if key not in present:
            headers.append((key, value))
    if not path.startswith(_CACHEABLE):
        headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
        headers.append((b"cache-control", b"no-store"))
    message["headers"] = [
        (k, _relative(v, host) if host and k.lower() == b"location" else v) for k, v in headers
    ]


def _relative(location: bytes, host: str) -> bytes:
    """``http://HOST/cases/1?x`` → ``/cases/1?x`` when HOST is the request's own host."""
    parts = urlsplit(location.decode("latin-1"))
    if parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower():
        return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment)).encode(
            "latin-1"
        )
    return location
