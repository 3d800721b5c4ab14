"""``GuardedJsonRoute``: a route's JSON body is the value the body guard read, not a second parse."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from cmvcds.adapters.api.guard import PARSED_JSON, ASGIApp, BodyGuard, Receive, Scope, Send
from cmvcds.adapters.api.guarded_json import GuardedJsonRoute


class _Marker:
    """Changes the guard's value after it was read, so that the answer tells which of the two
    readings (the guard's, or a parse of the bytes) the route got."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if PARSED_JSON in scope:
            scope[PARSED_JSON] = {**scope[PARSED_JSON], "read by": "the guard"}
        await self.app(scope, receive, send)


def _app(*, guarded: bool, marked: bool = False) -> FastAPI:
    router = APIRouter(route_class=GuardedJsonRoute)

    @router.post("/api/echo")
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        return body

    app = FastAPI()
    app.include_router(router)
    if marked:
        app.add_middleware(_Marker)
    if guarded:
        app.add_middleware(BodyGuard)  # added last: outermost
    return app


def test_the_route_gets_the_value_the_guard_read() -> None:
    with TestClient(_app(guarded=True, marked=True)) as client:
        answer = client.post("/api/echo", json={"a": [1, 2.5, "x"], "b": None})
    assert answer.status_code == 200
    assert answer.json() == {"a": [1, 2.5, "x"], "b": None, "read by": "the guard"}


def test_without_the_guard_the_body_is_parsed_as_before() -> None:
    with TestClient(_app(guarded=False, marked=True)) as client:
        answer = client.post("/api/echo", json={"a": 1})
    assert answer.json() == {"a": 1}


def test_a_body_the_guard_refuses_never_reaches_the_route() -> None:
    with TestClient(_app(guarded=True)) as client:
        answer = client.post(
            "/api/echo", content=b'{"a": 1, "a": 2}', headers={"content-type": "application/json"}
        )
    assert answer.status_code == 422
    assert "duplicate key" in answer.json()["detail"]
