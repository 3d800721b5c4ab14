"""Review of the answer statements in the registry: submit, approve, return; status and history.

The transitions are the engine's (``cmvcds.engine.answers.apply_review``): this module only
finds the current record (the registry's row, else the pack's own ``review`` record), applies
the action as the acting user on the given date, and stores the result in one
``StatementReview`` row per statement. The row is audited, so every action lands in the audit
trail with its comment as the entry's reason; a statement's history is read back from there.

Only a role with ``review_statements`` (reviewer, administrator) acts. ``overlay`` gives the
engine the effective records ``{statement_id: ReviewRecord}`` (design: the engine stays pure;
the adapters read the database and pass the overlay to ``AnswerEngine.ask``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cmvcds.engine.answers import apply_review
from cmvcds.errors import AccessDenied, InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.answers import (
    ReviewAction,
    ReviewEvent,
    ReviewRecord,
    ReviewStatus,
    StatementSet,
    TemplateSet,
)
from cmvcds.registry.access import Actor, Permission, require
from cmvcds.registry.models import AuditEntry, StatementReview

__all__ = [
    "HistoryEvent",
    "Reviewable",
    "act",
    "history",
    "listing",
    "overlay",
    "record_of",
    "reviewables",
]

RETURNED = "returned"


@dataclass(frozen=True)
class Reviewable:
    """A statement (or generated-statement template) of the pack, with its effective review."""

    id: str
    kind: str
    text: str
    origin: str  # "statement" or "template"
    record: ReviewRecord
    status: str  # as stored: draft, under_review, approved or returned
    knowledge_version: str | None = None  # of the registry's record (None: the pack's own)
    comment: str | None = None


@dataclass(frozen=True)
class HistoryEvent:
    """One review action, read back from the audit trail."""

    seq: int
    at: str
    username: str
    action: str
    status: str
    reviewed_on: str | None
    comment: str | None


def reviewables(knowledge: Knowledge) -> list[Reviewable]:
    """The pack's reviewable statements and templates, with the pack's own review records."""
    statements = knowledge.table("answer_statements", StatementSet).statements
    templates = knowledge.table("answer_templates", TemplateSet).templates
    items = [
        Reviewable(s.id, s.kind.value, s.text, "statement", s.review, s.review.status.value)
        for s in statements
    ]
    items += [
        Reviewable(t.id, t.kind.value, t.text, "template", t.review, t.review.status.value)
        for t in templates
    ]
    return items


def record_of(row: StatementReview) -> ReviewRecord:
    """The engine's record for a stored row (a returned statement is a draft to the engine)."""
    status = ReviewStatus.DRAFT if row.status == RETURNED else ReviewStatus(row.status)
    approved = status is ReviewStatus.APPROVED
    last = ReviewEvent(
        action=ReviewAction(row.action), by=row.reviewer, on=row.reviewed_on, comment=row.comment
    )
    return ReviewRecord(
        status=status,
        reviewer=row.reviewer if approved else None,
        role="registry reviewer" if approved else None,  # REVIEW_STATEMENTS holders only act
        date=row.reviewed_on if approved else None,
        knowledge_version=row.knowledge_version if approved else None,
        history=(last,),
    )


def _rows(session: Session) -> dict[str, StatementReview]:
    return {r.statement_id: r for r in session.scalars(select(StatementReview))}


def overlay(session: Session) -> dict[str, ReviewRecord]:
    """The registry's records by statement id (what overrides the pack's own records)."""
    return {key: record_of(row) for key, row in _rows(session).items()}


def listing(session: Session, actor: Actor, knowledge: Knowledge) -> list[Reviewable]:
    """Every reviewable statement of ``knowledge`` with its effective status, for a reviewer."""
    require(actor, Permission.REVIEW_STATEMENTS)
    rows = _rows(session)
    out = []
    for item in reviewables(knowledge):
        row = rows.get(item.id)
        if row is not None:
            item = replace(item, record=record_of(row), status=row.status,
                           knowledge_version=row.knowledge_version, comment=row.comment)  # fmt: skip
        out.append(item)
    return out


def act(
    session: Session,
    actor: Actor,
    knowledge: Knowledge,
    statement_id: str,
    action: ReviewAction | str,
    *,
    on: date,
    comment: str | None = None,
) -> StatementReview:
    """``actor`` does ``action`` to ``statement_id`` on ``on``; the transition is the engine's."""
    require(actor, Permission.REVIEW_STATEMENTS)
    try:
        action = ReviewAction(action)
    except ValueError:
        raise InputError(
            f"action {action!r}: one of {', '.join(a.value for a in ReviewAction)}", field="action"
        ) from None
    pack = {item.id: item.record for item in reviewables(knowledge)}
    if statement_id not in pack:
        raise InputError(f"no answer statement {statement_id!r} in the pack", field="statement")
    comment = comment.strip() if comment and comment.strip() else None
    # Locked: two reviewers acting at once act one after the other, the second on the state the
    # first left (a first review of a statement is a new row: the unique key makes that a 409).
    row = session.scalars(
        select(StatementReview)
        .where(StatementReview.statement_id == statement_id)
        .with_for_update()
    ).first()
    current = record_of(row) if row is not None else pack[statement_id]
    after = apply_review(current, action, actor.username, on, comment)
    values: dict[str, Any] = {
        "knowledge_version": knowledge.version,
        "status": RETURNED if action is ReviewAction.RETURN else after.status.value,
        "action": action.value,
        "reviewer": actor.username,
        "reviewed_on": on,
        "comment": comment,
    }
    if row is None:
        row = StatementReview(statement_id=statement_id, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    previous = session.info.get("reason")
    session.info["reason"] = comment or f"{action.value} statement {statement_id}"
    try:
        session.flush()
    finally:
        session.info["reason"] = previous
    return row


def history(session: Session, actor: Actor, statement_id: str) -> list[HistoryEvent]:
    """The review actions on ``statement_id``, oldest first, from the audit trail."""
    if not (actor.can(Permission.REVIEW_STATEMENTS) or actor.can(Permission.READ_AUDIT)):
        raise AccessDenied(
            f"user {actor.username!r} ({actor.role.value}) may not read the review history"
        )
    row = session.scalars(
        select(StatementReview).where(StatementReview.statement_id == statement_id)
    ).first()
    if row is None:
        return []
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == StatementReview.__tablename__, AuditEntry.entity_id == row.id)
        .order_by(AuditEntry.seq)
    ).all()
    events: list[HistoryEvent] = []
    state: dict[str, str | None] = {}
    for _, batch in groupby(entries, key=lambda e: (e.at, e.username)):  # one action, one flush
        group = list(batch)
        state.update({e.field: e.new_value for e in group if e.field is not None})
        first = group[0]
        events.append(
            HistoryEvent(
                group[-1].seq,
                first.at,
                first.username,
                state.get("action") or "",
                state.get("status") or "",
                state.get("reviewed_on"),
                first.reason,
            )
        )
    return events
