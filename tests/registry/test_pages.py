"""The registry pages: login, sessions, CSRF, throttling, and site isolation through the pages."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient

from cmvcds.registry import security

from .conftest import PASSWORD
from .web import T0, Clock, csrf_of, log_in, opened_form


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
    opened = opened_form(page.text)
    bad = client.post(url, data={**opened, "f_amnio_ga_days": "abc"})
    assert bad.status_code == 422 and "not a whole number" in bad.text
    forged = client.post(url, data={"csrf": "forged", "f_amnio_ga_days": "150"})
    assert forged.status_code == 403
    no_reason = client.post(url, data={**opened, "f_amnio_ga_days": "140"})
    assert no_reason.status_code == 422 and "needs a reason" in no_reason.text
    saved = client.post(url, data={**opened, "f_amnio_ga_days": "140", "reason": "typo"})
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
    for _ in range(security.FREE_ATTEMPTS):
        assert log_in(client, "pi_a", "wrong password") == 401
    assert log_in(client, "pi_a") == 429  # this client waits, even with the right password
    clock.moment += security.BACKOFF
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


def test_logout_without_its_csrf_token_is_refused_not_a_server_error(
    site: tuple[TestClient, Clock, dict[str, str]],
) -> None:
    client, _clock, _keys = site
    log_in(client, "entry_a")
    response = client.post("/registry/logout", data={}, follow_redirects=False)
    assert response.status_code == 403 and "CSRF" in response.text
    assert client.get("/registry/").status_code == 200  # still logged in
    token = csrf_of(client.get("/registry/").text)
    response = client.post("/registry/logout", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/registry/", follow_redirects=False).status_code == 303  # logged out
