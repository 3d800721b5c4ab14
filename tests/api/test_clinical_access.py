"""The clinician's pages outside the demo: a registry login of a clinical role, or nothing.

A real app on SQLite with the registry's own users (argon2id passwords, expiring sessions):
the sites' clinicians get in by the login cookie or a bearer token; a statistician is refused;
without a session the pages go to the login page and the API answers 401. The demo keeps its
pages open and says so on every page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.knowledge import Knowledge
from cmvcds.registry import migrate
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.db import Registry
from cmvcds.registry.roles import Role
from cmvcds.registry.services import study
from tests.conftest import TODAY
from tests.web.test_pages import FORM

PASSWORD = "correct horse 9"
CASE = {"id": "closed-01", "context": "pregnancy", "assessed_on": "2026-03-02"}


@pytest.fixture
def production(tmp_path: Path, knowledge: Knowledge) -> TestClient:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    registry = Registry(url)
    migrate.upgrade(registry.engine)
    with registry.session(SYSTEM) as s:
        site = study.create_site(s, SYSTEM, code="FI01", name="Careggi, Firenze").id
        for name, role, at in [
            ("doctor", Role.SITE_INVESTIGATOR, site),
            ("nurse", Role.SITE_DATA_ENTRY, site),
            ("stat", Role.STATISTICIAN, None),
        ]:
            study.create_user(s, SYSTEM, username=name, password=PASSWORD, role=role, site_id=at)
    settings = Settings(database_url=url, demo_cases=False, mode="production")
    app = create_app(settings, Clinic(knowledge, today=lambda: TODAY))
    app.state.registry = registry
    return TestClient(app, base_url="https://testserver")


def _token(client: TestClient, username: str) -> str:
    response = client.post(
        "/api/v1/registry/sessions", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def test_without_a_login_nothing_clinical_is_served(production: TestClient) -> None:
    for url in ["/", "/cases/new", "/cases/1", "/cases/1/case.yaml", "/dose", "/resistance"]:
        response = production.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"] == "/registry/login"
    posted = production.post("/cases", data=FORM, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == "/registry/login"
    api = production.post("/api/v1/assess", json=CASE)
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"
    assert api.headers["content-type"] == "application/problem+json"
    forged = production.post(
        "/api/v1/assess", json=CASE, headers={"Authorization": "Bearer forged"}
    )
    assert forged.status_code == 401
    for public in ["/knowledge", "/api/v1/healthz", "/api/v1/version", "/registry/login"]:
        assert production.get(public).status_code == 200, public
    assert "DEMO MODE" not in production.get("/registry/login").text


def test_a_clinician_gets_in_and_a_statistician_does_not(production: TestClient) -> None:
    doctor = {"Authorization": f"Bearer {_token(production, 'doctor')}"}
    assert production.post("/api/v1/assess", json=CASE, headers=doctor).status_code == 200
    production.cookies.set("cmvcds_registry", _token(production, "nurse"))
    created = production.post("/cases", data=FORM, follow_redirects=False)
    assert created.status_code == 303
    page = production.get(created.headers["location"])
    assert page.status_code == 200 and "DEMO MODE" not in page.text
    production.cookies.clear()
    stat = {"Authorization": f"Bearer {_token(production, 'stat')}"}
    refused = production.post("/api/v1/assess", json=CASE, headers=stat)
    assert refused.status_code == 403
    assert "the role statistician may not see clinical cases" in refused.json()["detail"]
    production.cookies.set("cmvcds_registry", _token(production, "stat"))
    assert production.get("/", follow_redirects=False).status_code == 403


def test_the_demo_is_open_and_says_so(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "DEMO MODE" in page.text and "Do not enter real patient data" in page.text
