"""A save from a form opened before another user's save is refused, never stored over it
(probe8 W2: lost update; ADR 0031-fix8b), on SQLite and on PostgreSQL.

The probe's steps: rossi and bianchi open *Maternal diagnosis · enrolment* (fetuses = 1); rossi
saves 2 with a reason; bianchi, still showing 1, saves 3. Before: both "Saved.", 3 recorded and
the trail said bianchi changed "2 → 3", a value bianchi never saw. Now bianchi's save is a 409
naming rossi and the change, the form shows both values, nothing is written; and of many saves
of one form opened at the same version, exactly one is stored. Saves answer with a 303 back to
the form (Post/Redirect/Get, probe8 R5).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import partial

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from cmvcds.adapters.web.registry import router
from cmvcds.adapters.web.registry.routes import now
from cmvcds.registry import audit
from cmvcds.registry.access import SYSTEM, Actor
from cmvcds.registry.db import is_lock_timeout
from cmvcds.registry.models import AuditEntry, DataValue, Role
from cmvcds.registry.services import crf, study
from tests.live_server import serving

from .conftest import PASSWORD, World
from .helpers import enrol
from .web import Clock, csrf_of, log_in, opened_form

FORM = ("maternal_diagnosis", "enrolment")
BASE = {"f_enrolment_date": "2026-01-12", "f_maternal_age_years": "36", "f_fetuses": "1"}


def _users(world: World, *names: str) -> dict[str, Actor]:
    with world.registry.session(SYSTEM) as s:
        made = {
            name: study.create_user(s, SYSTEM, username=name, password=PASSWORD,
                                    role=Role.SITE_DATA_ENTRY, site_id=world.site_a)
            for name in names
        }  # fmt: skip
        return {name: study.actor_for(user) for name, user in made.items()}


def _subject(world: World) -> str:
    """A mother whose enrolment form records fetuses = 1 (saved once: version 1)."""
    with world.registry.session(world.entry_a) as s:
        key = enrol(s, world.entry_a, "HRN-CONC-0002")
        crf.save_form(s, world.entry_a, key, *FORM, {k[2:]: v for k, v in BASE.items()})
    return key


def _fetuses(world: World, field: str = "fetuses") -> list[str]:
    with world.registry.session(None) as s:
        return list(s.scalars(select(DataValue.value).where(DataValue.field == field)))


def _trail(world: World, field: str = "fetuses") -> list[tuple[str, str | None, str | None]]:
    """Who changed ``field`` from what to what, oldest first."""
    with world.registry.session(None) as s:
        rows = s.execute(
            select(AuditEntry.username, AuditEntry.old_value, AuditEntry.new_value)
            .where(AuditEntry.entity == "data_values", AuditEntry.field.like(f"%/{field}"))
            .order_by(AuditEntry.seq)
        )
        return [(u, o, n) for u, o, n in rows]


def _app(world: World) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.state.registry = world.registry
    app.dependency_overrides[now] = Clock()
    return app


def _client(app_or_base: FastAPI | str, username: str) -> httpx.Client:
    if isinstance(app_or_base, str):
        client = httpx.Client(base_url=app_or_base, timeout=30)
    else:
        from fastapi.testclient import TestClient

        client = TestClient(app_or_base, base_url="https://testserver")
    token = csrf_of(client.get("/registry/login").text)
    answer = client.post("/registry/login", data={"username": username, "password": PASSWORD,
                                                  "csrf": token}, follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    return client


def test_the_stale_save_of_the_probe_is_refused_naming_who_changed_what(world: World) -> None:
    _users(world, "rossi", "bianchi")
    key = _subject(world)
    url = f"/registry/subjects/{key}/{FORM[0]}/{FORM[1]}"
    app = _app(world)
    rossi, bianchi = _client(app, "rossi"), _client(app, "bianchi")
    seen_by_rossi, seen_by_bianchi = (
        opened_form(rossi.get(url).text),
        opened_form(bianchi.get(url).text),
    )
    assert seen_by_bianchi["o_fetuses"] == "1" and seen_by_bianchi["version"] == "1"

    first = rossi.post(url, data={**seen_by_rossi, **BASE, "f_fetuses": "2",
                                  "reason": "twins seen on scan"}, follow_redirects=False)  # fmt: skip
    assert first.status_code == 303  # Post/Redirect/Get: back to the form, which says "Saved."
    assert first.headers["location"] == f"{url}?instance=1&saved=1&queries=0"
    assert "Saved." in rossi.get(first.headers["location"]).text

    stale = bianchi.post(url, data={**seen_by_bianchi, **BASE, "f_fetuses": "3",
                                    "reason": "triplets"}, follow_redirects=False)  # fmt: skip
    assert stale.status_code == 409
    text = " ".join(stale.text.split())
    assert "changed by rossi at" in text and "since you opened it, so nothing was saved" in text
    # both values: bianchi's 3 in the field, the recorded 2 (and who) beside it
    assert 'name="f_fetuses" value="3"' in stale.text
    assert "Recorded now: 2 — changed by rossi at" in text and "your page showed 1" in text
    assert "Saved." not in stale.text
    assert _fetuses(world) == ["2"]
    assert _trail(world) == [("entry_a", None, "1"), ("rossi", "1", "2")]  # nothing of bianchi

    # The redrawn page carries the version recorded now: bianchi, having seen 2, may change it.
    informed = bianchi.post(url, data={**opened_form(stale.text), **BASE, "f_fetuses": "3",
                                       "reason": "triplets on the second scan"},
                            follow_redirects=False)  # fmt: skip
    assert informed.status_code == 303
    assert _fetuses(world) == ["3"]
    assert _trail(world)[-1] == ("bianchi", "2", "3")  # a value bianchi was shown


def test_a_field_the_stale_user_left_alone_takes_the_recorded_value(world: World) -> None:
    _users(world, "rossi", "bianchi")
    key = _subject(world)
    url = f"/registry/subjects/{key}/{FORM[0]}/{FORM[1]}"
    app = _app(world)
    rossi, bianchi = _client(app, "rossi"), _client(app, "bianchi")
    seen_by_rossi, seen_by_bianchi = (
        opened_form(rossi.get(url).text),
        opened_form(bianchi.get(url).text),
    )
    assert rossi.post(url, data={**seen_by_rossi, **BASE, "f_fetuses": "2", "reason": "scan"},
                      follow_redirects=False).status_code == 303  # fmt: skip
    stale = bianchi.post(url, data={**seen_by_bianchi, **BASE, "f_maternal_age_years": "37",
                                    "reason": "age at enrolment"}, follow_redirects=False)  # fmt: skip
    assert stale.status_code == 409
    # bianchi did not touch fetuses: the page now shows rossi's 2 (a blind re-save keeps it)
    assert 'name="f_fetuses" value="2"' in stale.text
    assert 'name="f_maternal_age_years" value="37"' in stale.text
    again = bianchi.post(url, data={**opened_form(stale.text), **BASE, "f_fetuses": "2",
                                    "f_maternal_age_years": "37", "reason": "age at enrolment"},
                         follow_redirects=False)  # fmt: skip
    assert again.status_code == 303 and _fetuses(world) == ["2"]


def test_a_double_submission_is_one_save_and_back_does_not_post_again(world: World) -> None:
    key = _subject(world)
    url = f"/registry/subjects/{key}/{FORM[0]}/{FORM[1]}"
    client = _client(_app(world), "entry_a")
    form = {**opened_form(client.get(url).text), **BASE, "f_fetuses": "2", "reason": "twins"}
    first = client.post(url, data=form, follow_redirects=False)
    second = client.post(url, data=form, follow_redirects=False)  # the same page, sent twice
    assert (first.status_code, second.status_code) == (303, 303)  # already recorded: no-op
    assert _trail(world) == [("entry_a", None, "1"), ("entry_a", "1", "2")]
    # The page after the save is a GET: reloading it (or coming Back to it) sends nothing.
    shown = client.get(first.headers["location"])
    assert shown.status_code == 200 and "Saved." in shown.text
    assert shown.headers["cache-control"] == "no-store"


def test_a_page_without_a_version_cannot_overwrite(world: World) -> None:
    """A form drawn before pages carried a version (or a script posting blind) is refused."""
    key = _subject(world)
    url = f"/registry/subjects/{key}/{FORM[0]}/{FORM[1]}"
    client = _client(_app(world), "entry_a")
    token = csrf_of(client.get(url).text)
    blind = client.post(url, data={"csrf": token, **BASE, "f_fetuses": "4", "reason": "x"},
                        follow_redirects=False)  # fmt: skip
    assert blind.status_code == 409 and _fetuses(world) == ["1"]


def test_consent_changes_redirect_after_the_post(world: World) -> None:
    key = _subject(world)
    client = _client(_app(world), "pi_a")
    url = f"/registry/subjects/{key}/consent"
    answer = client.post(url, data={"csrf": csrf_of(client.get(url).text), "action": "withdraw",
                                    "withdrawn_on": "2026-03-01", "reason": "changed her mind"},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == f"{url}?done=withdrawn"
    assert "Consent withdrawn" in client.get(answer.headers["location"]).text


WRITERS = 12
AGE = "maternal_age_years"


def _at_once(calls: dict[str, Callable[[], object]]) -> dict[str, object]:
    """Each call from its own thread, all released at the same moment (a barrier)."""
    barrier = threading.Barrier(len(calls))
    results: dict[str, object] = {}

    def run(key: str) -> None:
        barrier.wait()
        try:
            results[key] = calls[key]()
        except Exception as error:  # what each writer was told is the result
            results[key] = error

    threads = [threading.Thread(target=run, args=(key,)) for key in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_writers_in_the_database_exactly_one_wins(world: World) -> None:
    """Twelve transactions, each saving its own value from the same opened version: one
    compare-and-set holds, every other save raises ``StaleForm`` (or the registry's "busy")."""
    key = _subject(world)
    with world.registry.session(world.entry_a) as s:
        opened = crf.opened(s, world.entry_a, key, *FORM)
    assert opened.version == 1

    def save(value: str) -> str:
        with world.registry.session(world.entry_a, reason="concurrent test") as s:
            crf.save_form(s, world.entry_a, key, *FORM, {"maternal_age_years": value},
                          opened_with=opened, shown={"maternal_age_years": "36"}, reason="test")  # fmt: skip
        return value

    results = _at_once({str(n): partial(save, str(n)) for n in range(20, 20 + WRITERS)})
    won = [v for v in results.values() if isinstance(v, str)]
    told = [e for e in results.values() if not isinstance(e, str)]
    assert len(won) == 1, results
    for error in told:
        assert isinstance(error, crf.StaleForm) or (
            isinstance(error, DBAPIError) and is_lock_timeout(error)
        ), repr(error)
    assert any(isinstance(e, crf.StaleForm) for e in told), results
    assert _fetuses(world, AGE) == won
    assert _trail(world, AGE) == [("entry_a", None, "36"), ("entry_a", "36", won[0])]


@pytest.mark.parametrize("writers", [WRITERS])
def test_twelve_simultaneous_saves_of_one_cell_over_http(world: World, writers: int) -> None:
    """The probe's burst against a running server: one "Saved." (303), every other user told."""
    names = [f"user{n}" for n in range(writers)]
    _users(world, *names)
    key = _subject(world)
    url = f"/registry/subjects/{key}/{FORM[0]}/{FORM[1]}"
    with serving(_app(world)) as base:
        clients = {name: _client(base, name) for name in names}
        forms = {
            name: {**opened_form(c.get(url).text), **BASE, "f_maternal_age_years": str(n + 20),
                   "reason": name}
            for n, (name, c) in enumerate(clients.items())
        }  # fmt: skip
        answers = _at_once({
            name: partial(c.post, url, data=forms[name], follow_redirects=False)
            for name, c in clients.items()
        })  # fmt: skip
        for client in clients.values():
            client.close()
    statuses = {name: a.status_code for name, a in answers.items() if isinstance(a, httpx.Response)}
    assert len(statuses) == writers and set(statuses.values()) <= {303, 409, 503}, statuses
    winners = [name for name, status in statuses.items() if status == 303]
    assert len(winners) == 1, statuses
    assert _fetuses(world, AGE) == [forms[winners[0]]["f_maternal_age_years"]]
    for name, answer in answers.items():
        assert isinstance(answer, httpx.Response)
        if answer.status_code == 409:
            assert re.search(r"changed by user\d+ at", " ".join(answer.text.split()))
            typed = forms[name]["f_maternal_age_years"]
            assert f'name="f_maternal_age_years" value="{typed}"' in answer.text
    with world.registry.session(None) as s:
        assert audit.verify(s).entries > 0
    assert len(_trail(world, AGE)) == 2  # the first save, then the one winner


def test_answering_one_query_twice_at_once_keeps_the_first_answer(world: World) -> None:
    key = _subject(world)
    with world.registry.session(world.monitor) as s:
        query_id = crf.open_query(s, world.monitor, key, *FORM, "fetuses", "twins?").id

    def answer(text: str) -> str:
        with world.registry.session(world.entry_a) as s:
            crf.answer_query(s, world.entry_a, query_id, text)
        return text

    results = _at_once({t: partial(answer, t) for t in ("one fetus", "two fetuses")})
    won = [v for v in results.values() if isinstance(v, str)]
    assert len(won) == 1, results
    with world.registry.session(None) as s:
        stored = s.scalar(select(AuditEntry.new_value).where(AuditEntry.field == "answer"))
    assert stored == won[0]


def test_log_in_helper_is_shared() -> None:
    assert callable(log_in)  # the pages' tests log in the same way
