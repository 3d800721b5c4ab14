"""Two users saving the same new form at the same moment, against a running server (probe 1, D5).

Both open ``instance=N`` of a repeating form (nothing recorded yet, version 0) and submit
together. Exactly one save is stored (303 back to the form, Post/Redirect/Get); the other is
refused as stale (409, redrawn with the loser's typed values and the one recorded now) or told
to try again (503), never a 500 and never stored over the first (ADR 0031-fix8b); the audit
trail verifies. The form's version row is the compare-and-set both race for.
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

from cmvcds.adapters.web.registry import router
from cmvcds.adapters.web.registry.routes import now
from cmvcds.knowledge import Knowledge
from cmvcds.registry import audit
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.models import DataValue, Role
from cmvcds.registry.services import reviews, study
from tests.live_server import serving

from .conftest import PASSWORD, World
from .helpers import pregnancy
from .web import Clock, csrf_of, opened_form

ROUNDS = 6


def _logged_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = csrf_of(client.get("/registry/login").text)
    answer = client.post(
        "/registry/login", data={"username": username, "password": PASSWORD, "csrf": token}
    )
    assert answer.status_code in (200, 303), answer.text
    return client


def _app(world: World) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.state.registry = world.registry
    app.dependency_overrides[now] = Clock()
    return app


def _at_once(posts: dict[str, Callable[[], httpx.Response]]) -> dict[str, httpx.Response]:
    """Each of ``posts`` sent from its own thread, all at the same moment (a barrier)."""
    barrier = threading.Barrier(len(posts))
    answers: dict[str, httpx.Response] = {}

    def send(key: str) -> None:
        barrier.wait()
        answers[key] = posts[key]()

    threads = [threading.Thread(target=send, args=(key,)) for key in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _recorded(world: World, instance: int) -> str | None:
    with world.registry.session(None) as s:
        return s.scalar(select(DataValue.value).where(
            DataValue.instrument == "laboratory", DataValue.instance == instance,
            DataValue.field == "lab_value",
        ))  # fmt: skip


def test_two_users_saving_one_new_form_at_once_never_get_a_500(world: World) -> None:
    with world.registry.session(SYSTEM) as s:
        study.create_user(s, SYSTEM, username="entry_a2", password=PASSWORD,
                          role=Role.SITE_DATA_ENTRY, site_id=world.site_a)  # fmt: skip
    with world.registry.session(world.entry_a) as s:
        key = pregnancy(s, world.entry_a, treated=True, transmitted=None, mrn="RACE-1")
    url = f"/registry/subjects/{key}/maternal_diagnosis/laboratory"
    outcomes: dict[int, dict[str, httpx.Response]] = {}
    with serving(_app(world)) as base:
        users = {"1.1": _logged_in(base, "entry_a"), "2.2": _logged_in(base, "entry_a2")}
        for instance in range(1, ROUNDS + 1):
            target = f"{url}?instance={instance}"
            forms = {
                value: {**opened_form(c.get(target).text), "f_lab_date": "2026-02-20",
                        "f_lab_test": "1", "f_lab_value": value, "f_lab_result": "", "reason": ""}
                for value, c in users.items()
            }  # fmt: skip
            outcomes[instance] = _at_once(
                {v: partial(c.post, target, data=forms[v], follow_redirects=False)
                 for v, c in users.items()}
            )  # fmt: skip
        for client in users.values():
            client.close()
    for instance, answers in outcomes.items():
        statuses = {value: answer.status_code for value, answer in answers.items()}
        assert set(statuses.values()) <= {303, 409, 503}, (instance, statuses)
        saved = [value for value, answer in answers.items() if answer.status_code == 303]
        assert len(saved) == 1, (instance, statuses)  # the two values differ: one is kept
        assert _recorded(world, instance) == saved[0], (instance, statuses)
        for value, answer in answers.items():
            if answer.status_code == 303:
                assert "saved=1" in answer.headers["location"]
            else:  # the loser's typed value is on the page, with a message saying why
                assert re.search(rf'name="f_lab_value" value="{re.escape(value)}"', answer.text)
                assert 'role="status"' in answer.text
            if answer.status_code == 409:
                assert "since you opened it" in answer.text and "nothing was saved" in answer.text
                assert "your page showed —" in answer.text  # the loser saw an empty form
    with world.registry.session(None) as s:
        assert audit.verify(s).entries > 0  # the chain verifies (and the fixture replays it)


@pytest.mark.parametrize("actions", [("submit", "submit"), ("submit", "approve")])
def test_two_reviewers_acting_on_one_statement_at_once_never_get_a_500(
    world: World, knowledge: Knowledge, actions: tuple[str, str]
) -> None:
    """The first review of a statement creates its row: both reviewers at once race for it."""
    with world.registry.session(SYSTEM) as s:
        for name in ("rev1", "rev2"):
            study.create_user(s, SYSTEM, username=name, password=PASSWORD, role=Role.REVIEWER)
    sid = next(i.id for i in reviews.reviewables(knowledge) if i.status == "draft")
    url = f"/registry/review/{sid}"
    with serving(_app(world)) as base:
        users = {
            action + str(n): _logged_in(base, f"rev{n}") for n, action in enumerate(actions, 1)
        }
        answers = _at_once({
            key: partial(c.post, url, data={"action": key[:-1], "csrf": csrf_of(c.get(url).text)},
                         follow_redirects=False)
            for key, c in users.items()
        })  # fmt: skip
        for client in users.values():
            client.close()
    statuses = {key: answer.status_code for key, answer in answers.items()}
    assert set(statuses.values()) <= {303, 409, 422, 503} and 303 in statuses.values(), statuses
    with world.registry.session(None) as s:
        assert audit.verify(s).entries > 0


def test_the_conflict_message_is_in_italian() -> None:
    from cmvcds.adapters.web.i18n import translations

    assert (
        translations("it")
        .gettext(
            "Another user saved this form at the same moment, so your values were not saved. They are "
            "kept below: check them against what is recorded now (reload in another tab) and save "
            "again; a changed recorded value needs a reason."
        )
        .startswith("Un altro utente")
    )
