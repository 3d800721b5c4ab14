"""``GuardedJsonRoute``: routes whose JSON body is the value the body guard already read.

``BodyGuard`` (``guard.py``) reads every JSON body with the document reader before any route
runs, and keeps the value in the scope; FastAPI would then parse the same bytes again with
``json.loads`` (~65 us for a CDS Hooks call's 4 KB, ~3 % of the call: issue 20, item 5). A route
of this class hands FastAPI a request whose ``json()`` is the guard's value: the same value,
since the guard accepts only documents that ``json.loads`` reads alike, and the bytes that
FastAPI decides to read as JSON are the ones the guard read. A body the guard did not read (a
content type it leaves alone) is parsed by Starlette as before.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from cmvcds.adapters.api.guard import PARSED_JSON

__all__ = ["GuardedJsonRequest", "GuardedJsonRoute"]


class GuardedJsonRequest(Request):
    """A request whose JSON body is the guard's reading, when there is one."""

    async def json(self) -> Any:
        if PARSED_JSON in self.scope:
            return self.scope[PARSED_JSON]
        return await super().json()


class GuardedJsonRoute(APIRoute):
    """An ``APIRoute`` that hands its handler a ``GuardedJsonRequest`` (FastAPI's documented way
    of a custom request class: a route class wrapping ``get_route_handler``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            return await handler(GuardedJsonRequest(request.scope, request.receive))

        return guarded
