"""The registry's pages in a test client: a clock, logging in, and reading CSRF tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cmvcds.adapters.web.i18n import LocaleMiddleware
from cmvcds.adapters.web.registry import router
from cmvcds.adapters.web.registry.routes import now

from .conftest import PASSWORD, World
from .helpers import pregnancy

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.moment = T0

    def __call__(self) -> datetime:
        return self.moment


def make_site(world: World) -> tuple[TestClient, Clock, dict[str, str]]:
    with world.registry.session(world.entry_a) as s:
        key_a = pregnancy(s, world.entry_a, treated=True, transmitted=False, mrn="A-1")
    with world.registry.session(world.entry_b) as s:
        key_b = pregnancy(s, world.entry_b, treated=False, transmitted=True, mrn="B-1")
    app = FastAPI()
    app.include_router(router)
    app.add_middleware(LocaleMiddleware)  # as create_app: the language of each request
    app.state.registry = world.registry
    clock = Clock()
    app.dependency_overrides[now] = clock
    return TestClient(app, base_url="https://testserver"), clock, {"a": key_a, "b": key_b}


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> int:
    form = client.get("/registry/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token
    response = client.post("/registry/login", data={"username": username, "password": password, "csrf": token[1]},
                           follow_redirects=False)  # fmt: skip
    return response.status_code


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match[1]


def opened_form(html: str) -> dict[str, str]:
    """What a CRF page carries back with its save: the CSRF token, the version the form was
    opened at (``version``, ``seen``) and the values it showed (``o_<field>``)."""
    import html as markup

    found = re.findall(r'<input type="hidden" name="(csrf|version|seen|o_\w+)" value="([^"]*)"', html)
    return {name: markup.unescape(value) for name, value in found}
