"""Review of the answer statements in the registry (issue 10, item 4), on SQLite and PostgreSQL.

The reviewer role, the ``statement_reviews`` table and its migration, the service (the engine's
transitions, roles, history from the audit trail), the overlay the Ask faces pass to the engine
(an answer shows the weakest status the registry holds), and the reviewers' page.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cmvcds.adapters.review_overlay import app_reviews, env_reviews, registry_reviews
from cmvcds.engine.answers import AnswerEngine, apply_review
from cmvcds.errors import AccessDenied, InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.answers import ReviewAction, ReviewStatus
from cmvcds.registry import audit, migrate
from cmvcds.registry.access import SYSTEM, Actor, Permission
from cmvcds.registry.db import Registry
from cmvcds.registry.models import AuditEntry, Base, Role, StatementReview
from cmvcds.registry.services import reviews, study
from cmvcds.registry.web_tables import metadata as web_metadata

from .conftest import World
from .web import csrf_of, log_in, make_site

QUESTION = "Can maribavir be given together with valganciclovir?"
DAY1, DAY2 = date(2026, 11, 20), date(2026, 11, 21)


@pytest.fixture(scope="module")
def answers(knowledge: Knowledge) -> AnswerEngine:
    return AnswerEngine(knowledge)  # BM25 only: the overlay does not depend on the ranking


def reviewer(world: World, name: str = "rev") -> Actor:
    with world.registry.session(SYSTEM) as s:
        user = study.create_user(s, SYSTEM, username=name, password="correct horse 9",
                                 role=Role.REVIEWER)  # fmt: skip
        return study.actor_for(user)


def a_draft(knowledge: Knowledge) -> str:
    """A statement of the pack that is still a draft (its own record)."""
    return next(i.id for i in reviews.reviewables(knowledge) if i.status == "draft")


def used_ids(document: dict[str, Any]) -> list[str]:
    return [s["id"] for section in document["sections"] for s in section["statements"]]


def reviewable_ids(document: dict[str, Any]) -> list[str]:
    """The pack ids (statement, or the template of a generated statement) an answer used."""
    return sorted({i.split(":", 1)[0] for i in used_ids(document)})


def test_the_reviewer_is_a_central_role_that_only_reviews(world: World) -> None:
    assert Role("reviewer") is Role.REVIEWER and not Role.REVIEWER.site_scoped
    rev = reviewer(world)
    assert rev.can(Permission.REVIEW_STATEMENTS) and world.admin.can(Permission.REVIEW_STATEMENTS)
    assert not rev.can(Permission.READ_DATA) and not rev.can(Permission.READ_IDENTITY)
    for name in ("entry_a", "pi_a", "monitor", "dm", "stat"):
        assert not world.actors[name].can(Permission.REVIEW_STATEMENTS), name
    with world.registry.session(SYSTEM) as s, pytest.raises(InputError, match="central role"):
        study.create_user(s, SYSTEM, username="rev2", password="correct horse 9",
                          role=Role.REVIEWER, site_id=world.site_a)  # fmt: skip


def test_migrated_schema_has_the_review_table_and_matches_the_models(registry: Registry) -> None:
    assert migrate.current_revision(registry.engine) == migrate.head_revision() == "0008"
    with registry.engine.connect() as connection:
        context = MigrationContext.configure(connection)  # the web tables are migrated too
        assert compare_metadata(context, [Base.metadata, web_metadata]) == []  # type: ignore[arg-type]


def test_submit_approve_return_follow_the_engine_and_land_in_the_audit_trail(
    world: World, knowledge: Knowledge
) -> None:
    rev = reviewer(world)
    sid = a_draft(knowledge)
    with world.registry.session(rev) as s:
        row = reviews.act(s, rev, knowledge, sid, "submit", on=DAY1)
        assert (row.status, row.action, row.reviewer, row.reviewed_on) == (
            "under_review", "submit", "rev", DAY1,
        )  # fmt: skip
        assert row.knowledge_version == knowledge.version
    with world.registry.session(world.admin) as s:
        reviews.act(s, world.admin, knowledge, sid, "approve", on=DAY2)
        record = reviews.overlay(s)[sid]
        assert (record.status, record.reviewer, record.date) == (
            ReviewStatus.APPROVED,
            "admin",
            DAY2,
        )
    with world.registry.session(rev) as s:
        # The engine's rules: approving an approved statement, or returning without a comment.
        with pytest.raises(InputError, match="cannot approve a statement that is approved"):
            reviews.act(s, rev, knowledge, sid, "approve", on=DAY2)
        with pytest.raises(InputError, match="needs a comment"):
            reviews.act(s, rev, knowledge, sid, "return", on=DAY2)
        with pytest.raises(InputError, match="before the last review"):
            reviews.act(s, rev, knowledge, sid, "return", on=DAY1, comment="too early")
        row = reviews.act(s, rev, knowledge, sid, "return", on=DAY2, comment="Cite the page.")
        assert (row.status, row.comment) == ("returned", "Cite the page.")
        assert reviews.overlay(s)[sid].status is ReviewStatus.DRAFT  # returned: a draft again
    with world.registry.session(rev) as s:
        reviews.act(s, rev, knowledge, sid, "submit", on=DAY2)  # a returned one is resubmitted
        events = reviews.history(s, rev, sid)
        assert [(e.username, e.action, e.status, e.reviewed_on, e.comment) for e in events] == [
            ("rev", "submit", "under_review", "2026-11-20", f"submit statement {sid}"),
            ("admin", "approve", "approved", "2026-11-21", f"approve statement {sid}"),
            ("rev", "return", "returned", "2026-11-21", "Cite the page."),
            ("rev", "submit", "under_review", "2026-11-21", f"submit statement {sid}"),
        ]
        entries = s.scalars(select(AuditEntry).where(AuditEntry.entity == "statement_reviews"))
        assert {e.field for e in entries} >= {"statement_id", "status", "reviewer", "comment"}
        assert audit.verify(s).entries > 0  # the chain still verifies
        assert s.scalars(select(StatementReview)).one().statement_id == sid


ACTIONS = st.lists(
    st.tuples(st.sampled_from(list(ReviewAction)), st.sampled_from([None, "Rephrase it."])),
    max_size=6,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=ACTIONS)
def test_the_registry_follows_the_engine_for_any_sequence_of_actions(
    world: World, knowledge: Knowledge, steps: list[tuple[ReviewAction, str | None]]
) -> None:
    item = next(i for i in reviews.reviewables(knowledge) if i.status == "draft")
    with world.registry.session(SYSTEM) as s:  # back to the pack's own record
        for row in s.scalars(select(StatementReview)):
            s.delete(row)
    mirror = item.record
    for action, comment in steps:
        try:
            mirror = apply_review(mirror, action, "admin", DAY1, comment)
            allowed = True
        except InputError:
            allowed = False
        try:
            with world.registry.session(world.admin) as s:
                reviews.act(s, world.admin, knowledge, item.id, action, on=DAY1, comment=comment)
        except InputError:
            assert not allowed, (action, comment)
        else:
            assert allowed, (action, comment)
        with world.registry.session(world.admin) as s:
            stored = reviews.overlay(s).get(item.id)
        assert (stored.status if stored else item.record.status) is mirror.status


def test_only_reviewers_and_administrators_act_and_only_on_pack_statements(
    world: World, knowledge: Knowledge
) -> None:
    sid = a_draft(knowledge)
    for name in ("entry_a", "monitor", "dm", "stat"):
        actor = world.actors[name]
        with world.registry.session(actor) as s, pytest.raises(AccessDenied, match="may not"):
            reviews.act(s, actor, knowledge, sid, "submit", on=DAY1)
    with world.registry.session(world.entry_a) as s, pytest.raises(AccessDenied):
        reviews.history(s, world.entry_a, sid)
    with world.registry.session(world.admin) as s:
        with pytest.raises(InputError, match="no answer statement"):
            reviews.act(s, world.admin, knowledge, "not-a-statement", "submit", on=DAY1)
        with pytest.raises(InputError, match="action 'publish'"):
            reviews.act(s, world.admin, knowledge, sid, "publish", on=DAY1)
        assert reviews.history(s, world.monitor, sid) == []  # auditors read; nothing yet
    with world.registry.session(world.admin) as s:
        assert s.scalars(select(StatementReview)).all() == []


def test_the_answer_shows_the_weakest_status_the_registry_holds(
    world: World, knowledge: Knowledge, answers: AnswerEngine
) -> None:
    before = answers.ask(QUESTION)
    ids = reviewable_ids(before)
    assert before["covered"] and ids
    assert registry_reviews(world.registry) == {}  # a migrated registry with no review yet
    rev = reviewer(world)
    with world.registry.session(rev) as s:
        for sid in ids:
            reviews.act(s, rev, knowledge, sid, "submit", on=DAY1)
            reviews.act(s, rev, knowledge, sid, "approve", on=DAY2)
    overlay = registry_reviews(world.registry)
    assert overlay is not None and set(overlay) == set(ids)
    approved = answers.ask(QUESTION, reviews=overlay)
    assert used_ids(approved) == used_ids(before)  # the overlay never changes what is said
    assert approved["review"]["status"] == "approved"
    assert (approved["review"]["reviewed_by"], approved["review"]["reviewed_on"]) == (
        "rev",
        "2026-11-21",
    )
    assert not any("review" in n.lower() for n in approved["notices"])
    assert {s["review"] for sec in approved["sections"] for s in sec["statements"]} == {"approved"}
    marks = [s["approved"] for sec in approved["sections"] for s in sec["statements"]]
    assert {(m["by"], m["on"], m["knowledge_version"]) for m in marks} == {
        ("rev", "2026-11-21", knowledge.version)
    }  # each approved statement shown as approved, with the version it was approved in
    with world.registry.session(rev) as s:
        reviews.act(s, rev, knowledge, ids[0], "return", on=DAY2, comment="Out of date.")
    returned = answers.ask(QUESTION, reviews=registry_reviews(world.registry))
    assert returned["review"]["status"] == "draft" and returned["review"]["reviewed_by"] is None
    assert returned["review"]["counts"]["draft"] >= 1
    shown = [st for sec in returned["sections"] for st in sec["statements"]]
    notice = answers.texts.review_notice.format(
        status=ReviewStatus.DRAFT.wording,
        pending=len(returned["review"]["pending"]),
        total=len(shown),
    )
    assert returned["notices"][0] == notice
    # the returned statement (or the statements of a returned template) is pending again
    assert any(p == ids[0] or p.startswith(f"{ids[0]}:") for p in returned["review"]["pending"])
    assert answers.ask(QUESTION) == before  # without an overlay: the pack's own records


def test_the_faces_find_the_registry(world: World, tmp_path: Any, monkeypatch: Any) -> None:
    class State:
        pass

    state = State()
    state.registry = world.registry  # type: ignore[attr-defined]
    assert app_reviews(state) == {}
    bare = Registry(f"sqlite:///{tmp_path / 'bare.sqlite3'}")  # not migrated: the pack stands
    assert registry_reviews(bare) is None
    bare.dispose()
    monkeypatch.delenv("CMVCDS_DATABASE_URL", raising=False)
    assert env_reviews() is None
    monkeypatch.setenv("CMVCDS_DATABASE_URL", world.registry.url)
    assert env_reviews() == {}
    settings_only = State()
    settings_only.settings = type("S", (), {"database_url": world.registry.url})()  # type: ignore[attr-defined]
    assert app_reviews(settings_only) == {}


def test_the_reviewers_page_lists_acts_and_shows_the_history(
    world: World, knowledge: Knowledge
) -> None:
    reviewer(world)
    client, _, _ = make_site(world)
    sid = a_draft(knowledge)
    assert log_in(client, "rev") == 303
    listing = client.get("/registry/review")
    assert listing.status_code == 200 and sid in listing.text and "Statement review" in listing.text
    token = csrf_of(listing.text)
    assert (
        client.post(
            f"/registry/review/{sid}", data={"action": "submit", "csrf": "forged"}
        ).status_code
        == 403
    )
    done = client.post(f"/registry/review/{sid}", data={"action": "submit", "csrf": token},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == f"/registry/review/{sid}"
    refused = client.post(f"/registry/review/{sid}", data={"action": "return", "csrf": token})
    assert refused.status_code == 422 and "needs a comment" in refused.text
    client.post(f"/registry/review/{sid}", data={"action": "approve", "csrf": token})
    detail = client.get(f"/registry/review/{sid}")
    assert detail.status_code == 200
    assert "approved" in detail.text and "by rev on 2026-03-02" in detail.text  # the page clock
    assert detail.text.count("<td>rev</td>") == 2  # two actions in the history
    only_approved = client.get("/registry/review?status=approved")
    assert sid in only_approved.text and "(1)" in only_approved.text
    assert client.get("/registry/review/not-a-statement").status_code == 404

    monitor = make_site_client(world)
    assert log_in(monitor, "monitor") == 303
    assert monitor.get("/registry/review").status_code == 403
    page = monitor.get("/registry/audit")
    denied = monitor.post(f"/registry/review/{sid}",
                          data={"action": "return", "comment": "no", "csrf": csrf_of(page.text)})  # fmt: skip
    assert denied.status_code == 403
    with world.registry.session(world.admin) as s:
        assert reviews.overlay(s)[sid].status is ReviewStatus.APPROVED


def make_site_client(world: World) -> Any:
    """A browser on the registry pages (without the subjects ``make_site`` adds)."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from cmvcds.adapters.web.registry import router

    app = FastAPI()
    app.include_router(router)
    app.state.registry = world.registry
    return TestClient(app, base_url="https://testserver")


def test_a_reviewer_logging_in_lands_on_the_review_page(world: World) -> None:
    reviewer(world)
    client = make_site_client(world)
    assert log_in(client, "rev") == 303
    response = client.get("/registry/")
    assert response.status_code == 200 and "Statement review" in response.text


def test_the_ask_faces_show_the_registry_status(
    world: World, knowledge: Knowledge, tmp_path: Any, monkeypatch: Any
) -> None:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from cmvcds.adapters.api.app import create_app
    from cmvcds.adapters.api.service import Clinic
    from cmvcds.adapters.api.settings import Settings
    from cmvcds.adapters.cli.main import app as cli

    app_settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cases.sqlite3'}", demo_cases=False
    )
    app = create_app(app_settings, Clinic(knowledge, today=lambda: DAY2))
    app.state.registry = world.registry
    client = TestClient(app)
    before = client.post("/api/v1/ask", json={"question": QUESTION}).json()
    assert before["review"]["status"] != "approved"
    rev = reviewer(world)
    with world.registry.session(rev) as s:
        for sid in reviewable_ids(before):
            reviews.act(s, rev, knowledge, sid, "submit", on=DAY1)
            reviews.act(s, rev, knowledge, sid, "approve", on=DAY2)
    after = client.post("/api/v1/ask", json={"question": QUESTION}).json()
    assert used_ids(after) == used_ids(before)
    assert (after["review"]["status"], after["review"]["reviewed_by"]) == ("approved", "rev")
    page = client.post("/ask", data={"question": QUESTION, "audience": "clinician"})
    assert page.status_code == 200
    assert "Review status: APPROVED" in page.text and "approved by rev on 2026-11-21" in page.text

    monkeypatch.setenv("CMVCDS_DATABASE_URL", world.registry.url)
    result = CliRunner().invoke(cli, ["ask", QUESTION, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["review"]["status"] == "approved"
    monkeypatch.delenv("CMVCDS_DATABASE_URL")
    result = CliRunner().invoke(cli, ["ask", QUESTION, "--format", "json"])
    assert json.loads(result.stdout)["review"]["status"] == before["review"]["status"]
