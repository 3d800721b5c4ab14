"""No request waits behind another's lock for more than about a second: it answers 503.

Another transaction holds the audit trail's head (PostgreSQL: the row ``FOR UPDATE``; SQLite:
the database's write lock) while a user saves a form or calls the API; the answer must come
within ~1 s as 503 with ``Retry-After``, nothing written, and succeed once the lock is gone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from cmvcds.adapters.web.i18n import translations
from cmvcds.adapters.web.registry.routes import BUSY
from cmvcds.registry.db import LOCK_TIMEOUT_MS
from cmvcds.registry.models import DataValue, Subject

from .conftest import World
from .web import Clock, log_in, opened_form

Site = tuple[TestClient, Clock, dict[str, str]]


@contextmanager
def audit_head_locked(url: str) -> Iterator[None]:
    engine = create_engine(url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
        try:
            yield
        finally:
            connection.rollback()
    engine.dispose()


def test_a_save_behind_a_held_lock_answers_503_within_a_second(site: Site, world: World) -> None:
    client, _clock, keys = site
    log_in(client, "entry_a")
    url = f"/registry/subjects/{keys['a']}/maternal_diagnosis/maternal_infection"
    form = {**opened_form(client.get(url).text), "f_infection_timing": "1",
            "reason": "re-dated from the serology"}  # fmt: skip
    with audit_head_locked(world.registry.url):
        started = time.monotonic()
        busy = client.post(url, data=form)
        waited = time.monotonic() - started
    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    assert "busy" in busy.text and waited < LOCK_TIMEOUT_MS / 1000 + 1.0, waited
    assert timing(world, keys["a"]) == "2"  # nothing was written
    saved = client.post(url, data=form)
    assert saved.status_code == 200 and "Saved." in saved.text
    assert timing(world, keys["a"]) == "1"


def timing(world: World, pseudonym: str) -> str | None:
    with world.registry.session(None) as s:
        return s.scalar(
            select(DataValue.value)
            .join(Subject, Subject.id == DataValue.subject_id)
            .where(Subject.pseudonym == pseudonym, DataValue.field == "infection_timing")
        )


def test_the_api_answers_a_busy_problem(site: Site, world: World) -> None:
    client, _clock, _keys = site
    answer = client.post("/api/v1/registry/sessions",
                         json={"username": "dm", "password": "correct horse 9"})  # fmt: skip
    headers = {"Authorization": f"Bearer {answer.json()['token']}"}
    if world.registry.engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL reads take no lock: the API's GETs never wait for a writer")
    with audit_head_locked(world.registry.url):
        started = time.monotonic()
        busy = client.get("/api/v1/registry/subjects", headers=headers)
        waited = time.monotonic() - started
        italian = client.get(
            "/api/v1/registry/subjects", headers={**headers, "Accept-Language": "it"}
        )
    assert busy.status_code == 503 and busy.json()["title"] == "Busy", busy.text
    assert busy.headers["retry-after"] == "1" and waited < LOCK_TIMEOUT_MS / 1000 + 1.0
    assert busy.json()["detail"] == BUSY
    # asked in Italian, the detail a person reads is Italian; the title stays the English key
    assert italian.status_code == 503 and italian.json()["title"] == "Busy", italian.text
    assert italian.json()["detail"] == translations("it").ugettext(BUSY) != BUSY
    assert client.get("/api/v1/registry/subjects", headers=headers).status_code == 200
