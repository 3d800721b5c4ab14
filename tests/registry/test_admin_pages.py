"""The administrator's users and sites pages, through the pages as an administrator uses them."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cmvcds.registry.access import SYSTEM
from cmvcds.registry.models import AuditEntry, User

from .conftest import PASSWORD, World
from .web import csrf_of, log_in


def _admin(site: tuple[TestClient, Any, dict[str, str]]) -> tuple[TestClient, str]:
    client = site[0]
    assert log_in(client, "admin") == 303
    page = client.get("/registry/admin")
    assert page.status_code == 200
    return client, csrf_of(page.text)


def test_the_administrator_lists_users_with_role_site_and_state(
    site: tuple[TestClient, Any, dict[str, str]],
) -> None:
    client, _ = _admin(site)
    text = client.get("/registry/admin").text
    row = re.search(r"<tr><td>entry_a</td><td>(.*?)</td><td>(.*?)</td>\s*<td>(.*?)</td>", text)
    assert row and row.groups() == ("site data entry", "FI01", "yes")
    assert re.search(r"<tr><td>monitor</td><td>monitor</td><td>—</td>", text)
    assert "BO01" in text and "Sant&#39;Orsola, Bologna" in text


def test_a_deactivated_user_cannot_log_in_until_reactivated_and_the_reason_is_audited(
    site: tuple[TestClient, Any, dict[str, str]], world: World
) -> None:
    client, csrf = _admin(site)
    other = TestClient(client.app, base_url="https://testserver")
    assert log_in(other, "entry_a") == 303  # an open session, ended by the deactivation
    no_reason = client.post(
        "/registry/admin/users/entry_a/active", data={"csrf": csrf, "active": "0"}
    )
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    done = client.post("/registry/admin/users/entry_a/active",
                       data={"csrf": csrf, "active": "0", "reason": "left the study"})  # fmt: skip
    assert done.status_code == 200 and "User entry_a deactivated" in done.text
    assert other.get("/registry/subjects", follow_redirects=False).status_code == 303
    assert log_in(other, "entry_a") == 401
    with world.registry.session(SYSTEM) as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "users", AuditEntry.field == "active")
            .order_by(AuditEntry.seq.desc())
        ).first()  # fmt: skip
        assert entry and entry.username == "admin" and entry.reason == "left the study"
        assert entry.new_value in ("False", "false", "0")
    client.post("/registry/admin/users/entry_a/active",
                data={"csrf": csrf, "active": "1", "reason": "back on the study"})  # fmt: skip
    assert log_in(other, "entry_a") == 303


def test_the_administrator_creates_a_site_and_a_user_of_it_who_logs_in(
    site: tuple[TestClient, Any, dict[str, str]], world: World
) -> None:
    client, csrf = _admin(site)
    made = client.post(
        "/registry/admin/sites", data={"csrf": csrf, "code": "PD01", "name": "Padova"}
    )
    assert made.status_code == 200 and "Site PD01 created" in made.text
    bad = client.post("/registry/admin/sites", data={"csrf": csrf, "code": "pd", "name": "x"})
    assert bad.status_code == 422 and "capital letters" in bad.text
    central_with_site = client.post("/registry/admin/users", data={
        "csrf": csrf, "username": "mon2", "password": PASSWORD, "role": "monitor", "site": "PD01"})  # fmt: skip
    assert central_with_site.status_code == 422 and "central role" in central_with_site.text
    user = client.post("/registry/admin/users", data={
        "csrf": csrf, "username": "entry_pd", "password": PASSWORD, "role": "site_data_entry",
        "site": "PD01"})  # fmt: skip
    assert user.status_code == 200 and "User entry_pd created" in user.text
    with world.registry.session(SYSTEM) as s:
        created = s.scalars(select(User).where(User.username == "entry_pd")).one()
        assert created.role == "site_data_entry" and created.active
        audited = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == created.id)).all()
        assert {e.username for e in audited} == {"admin"} and audited
        assert PASSWORD not in str([(e.old_value, e.new_value) for e in audited])
    newcomer = TestClient(client.app, base_url="https://testserver")
    assert log_in(newcomer, "entry_pd") == 303
    assert newcomer.get("/registry/subjects").status_code == 200


def test_only_the_administrator_manages_users_and_forms_need_the_csrf_token(
    site: tuple[TestClient, Any, dict[str, str]],
) -> None:
    client, _csrf = _admin(site)
    forged = client.post("/registry/admin/users/entry_a/active",
                         data={"csrf": "forged", "active": "0", "reason": "x"})  # fmt: skip
    assert forged.status_code == 403
    assert log_in(client, "dm") == 303
    assert client.get("/registry/admin").status_code == 403
    dm_csrf = csrf_of(client.get("/registry/subjects").text)
    refused = client.post(
        "/registry/admin/sites", data={"csrf": dm_csrf, "code": "XX01", "name": "x"}
    )
    assert refused.status_code == 403
    assert log_in(client, "entry_a") == 303  # still active: the forged post changed nothing
