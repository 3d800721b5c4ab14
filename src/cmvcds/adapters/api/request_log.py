"""One structured log line per HTTP request, tagged with a request id.

``RequestLog`` (ASGI middleware) takes the proxy's ``X-Request-ID`` when it is a short token
(``[A-Za-z0-9._-]{1,64}``; anything else is replaced, never logged), or makes one, echoes it on
the response and logs, on the ``cmvcds.access`` logger: method, path, status, duration and the
request id. The path is the *route template* when the request matched a route
(``/cases/{case_id}``), so that a case id or a pseudonym typed into a URL never reaches the log;
the query string, the body, cookies, the ``Authorization`` header and the logged-in user are
never read. Every other log line written while the request runs carries the same request id
(``REQUEST_ID``), so one request can be followed across the log.
"""

from __future__ import annotations

import logging
import os
import re
import time
from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HEADER", "REQUEST_ID", "RequestLog", "request_id_from"]

HEADER = "X-Request-ID"
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: The id of the request being served (None outside a request).
REQUEST_ID: ContextVar[str | None] = ContextVar("cmvcds_request_id", default=None)
LOG = logging.getLogger("cmvcds.access")
_UNMATCHED_PATH_CHARS = 200


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The proxy's id when it is a short token, else a new random one (128 random bits in hex,
    as ``uuid4().hex`` gave them less the version bits, at a fifth of its cost: the ``UUID``
    object was ~4 µs of every request)."""
    for name, value in headers:
        if name.lower() == b"x-request-id":
            given = value.decode("latin-1")
            if _TOKEN.fullmatch(given):
                return given
            break
    return os.urandom(16).hex()


class RequestLog:
    """ASGI middleware: see the module docstring. Outermost of the app's own middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers", []))
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if LOG.isEnabledFor(logging.INFO):  # the record made directly: no caller lookup
                LOG.handle(
                    LOG.makeRecord(
                        LOG.name,
                        logging.INFO,
                        __file__,
                        0,
                        "request",
                        (),
                        None,
                        extra={
                            "method": scope["method"],
                            "path": _path(scope),
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                            "request_id": request_id,
                        },
                    )
                )
            REQUEST_ID.reset(token)


def _path(scope: Scope) -> str:
    """The matched route's template, else the path (without its query string), truncated."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if isinstance(template, str) and template:
        return template
    return str(scope.get("path", ""))[:_UNMATCHED_PATH_CHARS]
