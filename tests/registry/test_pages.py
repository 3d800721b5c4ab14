"""The registry pages: login, sessions, CSRF, throttling, and site isolation through the pages."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cmvcds.adapters.web.registry import router
from cmvcds.adapters.web.registry.routes import now
from cmvcds.registry import security

from .conftest import PASSWORD, World
from .helpers import pregnancy

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.moment = T0

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def site(world: World) -> tuple[TestClient, Clock, dict[str, str]]:
    with world.registry.session(world.entry_a) as s:
        key_a = pregnancy(s, world.entry_a, treated=True, transmitted=False, mrn="A-1")
    with world.registry.session(world.entry_b) as s:
        key_b = pregnancy(s, world.entry_b, treated=False, transmitted=True, mrn="B-1")
    app = FastAPI()
    app.include_router(router)
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


def test_login_dashboard_and_isolation(site: tuple[TestClient, Clock, dict[str, str]]) -> None:
    client, _clock, keys = site
    assert client.get("/registry/", follow_redirects=False).status_code == 303  # not logged in
    assert log_in(client, "entry_a") == 303
    dashboard = client.get("/registry/")
    assert (
        dashboard.status_code == 200 and "FI01" in dashboard.text and "BO01" not in dashboard.text
    )
    listing = client.get("/registry/subjects").text
    assert keys["a"] in listing and keys["b"] not in listing
    assert client.get(f"/registry/subjects/{keys['a']}").status_code == 200
    other = client.get(f"/registry/subjects/{keys['b']}")
    guess = client.get(f"/registry/subjects/{keys['b'][:-1]}Z")
    assert other.status_code == guess.status_code == 404
    assert other.text.replace(keys["b"], "X") == guess.text.replace(keys["b"][:-1] + "Z", "X")
    form = client.get(f"/registry/subjects/{keys['b']}/valacyclovir_start/valacyclovir")
    assert form.status_code == 404 and "treated" not in form.text


def test_form_entry_validation_reason_and_csrf(
    site: tuple[TestClient, Clock, dict[str, str]],
) -> None:
    client, _clock, keys = site
    log_in(client, "entry_a")
    url = f"/registry/subjects/{keys['a']}/amniocentesis/amniocentesis"
    page = client.get(url)
    token = csrf_of(page.text)
    bad = client.post(url, data={"csrf": token, "f_amnio_ga_days": "abc"})
    assert bad.status_code == 422 and "not a number" in bad.text
    forged = client.post(url, data={"csrf": "forged", "f_amnio_ga_days": "150"})
    assert forged.status_code == 403
    no_reason = client.post(url, data={"csrf": token, "f_amnio_ga_days": "140"})
    assert no_reason.status_code == 422 and "needs a reason" in no_reason.text
    saved = client.post(url, data={"csrf": token, "f_amnio_ga_days": "140", "reason": "typo"})
    assert saved.status_code == 200 and "query opened" in saved.text
    assert 'value="140"' in saved.text
    other = client.post(f"/registry/subjects/{keys['b']}/amniocentesis/amniocentesis",
                        data={"csrf": token, "f_amnio_ga_days": "150", "reason": "x"})  # fmt: skip
    assert other.status_code == 404


def test_session_expires_and_login_is_throttled(
    site: tuple[TestClient, Clock, dict[str, str]],
) -> None:
    client, clock, _keys = site
    log_in(client, "entry_a")
    assert client.get("/registry/").status_code == 200
    clock.moment = T0 + security.SESSION_LIFETIME
    assert client.get("/registry/", follow_redirects=False).status_code == 303
    for _ in range(security.MAX_FAILURES):
        assert log_in(client, "pi_a", "wrong password") == 401
    assert log_in(client, "pi_a") == 401  # locked even with the right password
    clock.moment += security.LOCKOUT + timedelta(seconds=1)
    assert log_in(client, "pi_a") == 303


def test_login_form_needs_its_csrf_token(site: tuple[TestClient, Clock, dict[str, str]]) -> None:
    client, _clock, _keys = site
    client.get("/registry/login")
    response = client.post(
        "/registry/login", data={"username": "entry_a", "password": PASSWORD, "csrf": "x"}
    )
    assert response.status_code == 403


def test_exports_analyses_and_audit_pages(site: tuple[TestClient, Clock, dict[str, str]]) -> None:
    client, _clock, keys = site
    log_in(client, "pi_a")
    token = csrf_of(client.get("/registry/exports").text)
    response = client.post(
        "/registry/exports", data={"csrf": token, "fmt": "redcap", "profile": "site"}
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    records = archive.read("records.csv").decode()
    assert keys["a"] in records and keys["b"] not in records and "A-1" in records
    assert "a row of the table is empty" not in client.get("/registry/analyses").text  # shown as —
    audit = client.get("/registry/audit")
    assert audit.status_code == 200 and "export" in audit.text
    log_in(client, "dm")
    analyses = client.get("/registry/analyses")
    assert analyses.status_code == 200 and "woolf" in analyses.text and "<svg" in analyses.text
    log_in(client, "stat")
    assert client.get("/registry/audit").status_code == 403
    assert client.get(f"/registry/subjects/{keys['a']}").status_code == 404
