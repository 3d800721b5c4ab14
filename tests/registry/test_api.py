"""The registry's JSON API: session cookie or bearer token, scoping, problem+json errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cmvcds.registry import security

from .conftest import PASSWORD, World
from .web import T0, Clock, log_in

Site = tuple[TestClient, Clock, dict[str, str]]
API = "/api/v1/registry"


def bearer(client: TestClient, username: str) -> dict[str, str]:
    response = client.post(f"{API}/sessions", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_unauthenticated_and_expired_are_401_problems(site: Site) -> None:
    client, clock, _keys = site
    response = client.get(f"{API}/subjects")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401 and "Bearer" in response.headers["www-authenticate"]
    assert (
        client.get(f"{API}/subjects", headers={"Authorization": "Bearer forged"}).status_code == 401
    )
    wrong = client.post(
        f"{API}/sessions", json={"username": "entry_a", "password": "nope nope nope"}
    )
    assert wrong.status_code == 401 and wrong.json()["detail"] == "unknown user or wrong password"
    headers = bearer(client, "entry_a")
    assert client.get(f"{API}/subjects", headers=headers).status_code == 200
    clock.moment = T0 + security.SESSION_LIFETIME
    assert client.get(f"{API}/subjects", headers=headers).status_code == 401


def test_subjects_are_scoped_to_the_users_site(site: Site) -> None:
    client, _clock, keys = site
    headers = bearer(client, "entry_a")
    listing = client.get(f"{API}/subjects", headers=headers).json()
    assert [s["pseudonym"] for s in listing["subjects"]] == [keys["a"]]
    assert listing["subjects"][0] == {"pseudonym": keys["a"], "kind": "mother", "site": "FI01",
                                      "enrolled_on": "2026-01-12"}  # fmt: skip
    one = client.get(f"{API}/subjects/{keys['a']}", headers=headers).json()
    assert one["events"]["amniocentesis"]["amniocentesis"] == "complete"
    other = client.get(f"{API}/subjects/{keys['b']}", headers=headers)
    guess = client.get(f"{API}/subjects/{keys['b'][:-1]}Z", headers=headers)
    assert other.status_code == guess.status_code == 404
    assert other.json()["detail"].replace(keys["b"], "X") == guess.json()["detail"].replace(
        keys["b"][:-1] + "Z", "X"
    )
    central = bearer(client, "dm")
    every = client.get(f"{API}/subjects", headers=central).json()["subjects"]
    assert {s["pseudonym"] for s in every} == {keys["a"], keys["b"]}
    bad = client.get(f"{API}/subjects?limit=0", headers=central)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "limit"
    for offset in (2**63, 2**64 + 1, 10**30):  # past any integer column: a 422, never a 5xx
        huge = client.get(f"{API}/subjects?offset={offset}", headers=central)
        assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "offset"


def test_session_cookie_works_too_and_dashboard_is_scoped(site: Site) -> None:
    client, _clock, _keys = site
    log_in(client, "entry_a")  # the pages' cookie
    dashboard = client.get(f"{API}/dashboard")
    assert dashboard.status_code == 200
    assert [row["site"] for row in dashboard.json()["sites"]] == ["FI01"]


def test_analyses_name_their_methods_and_roles_are_enforced(site: Site) -> None:
    client, _clock, _keys = site
    stat = bearer(client, "stat")
    document = client.get(f"{API}/analyses", headers=stat).json()
    primary = document["analyses"][0]
    assert primary["id"] == "transmission-at-amniocentesis"
    assert primary["overall"]["table"] == {"exposed": [0, 1], "unexposed": [1, 0]}
    assert primary["overall"]["ci_method"] == "woolf-haldane"
    assert "safety" in document
    composite = client.get(f"{API}/analyses/termination-or-infection-at-birth", headers=stat).json()
    assert composite["outcome_definition"]["method"] == "any-component-event-per-pregnancy"
    unknown = client.get(f"{API}/analyses/nope", headers=stat)
    assert (
        unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    )
    assert client.get(f"{API}/subjects", headers=stat).status_code == 403  # no record access
    monitor = bearer(client, "monitor")
    refused = client.get(f"{API}/analyses", headers=monitor)
    assert refused.status_code == 403 and "may not analyse" in refused.json()["detail"]


@pytest.mark.parametrize(
    "database_url", ["sqlite"], indirect=True
)  # the mounting, not the database
def test_mounted_by_the_web_app(world: World) -> None:
    from cmvcds.adapters.api.app import create_app
    from cmvcds.adapters.api.settings import Settings

    url = world.registry.engine.url.render_as_string(hide_password=False)
    app = create_app(Settings(database_url=url, demo_cases=False))
    app.state.registry = world.registry
    client = TestClient(app, base_url="https://testserver")
    assert client.get(f"{API}/dashboard").status_code == 401
    headers = bearer(client, "dm")
    sites = client.get(f"{API}/dashboard", headers=headers).json()["sites"]
    assert [row["site"] for row in sites] == ["BO01", "FI01"]
    assert "/api/v1/registry/subjects" in client.get("/openapi.json").json()["paths"]
