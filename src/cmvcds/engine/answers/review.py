"""The review workflow of answer statements: submit, approve, return — a pure state change.

    draft ──submit──▶ under_review ──approve──▶ approved
      ▲                    │                       │
      └──────return────────┴─────────return────────┘

Only a named reviewer changes a status, on a given date; every change is appended to the
statement's ``history``. ``tools/review_answers.py`` applies it to the knowledge file (until the
registry's database and audit trail hold it).
"""

from __future__ import annotations

from datetime import date

from cmvcds.errors import InputError
from cmvcds.knowledge.schemas.answers import ReviewAction, ReviewEvent, ReviewRecord, ReviewStatus

__all__ = ["TRANSITIONS", "apply_review"]

#: action → (statuses it applies to, status it leads to)
TRANSITIONS: dict[ReviewAction, tuple[frozenset[ReviewStatus], ReviewStatus]] = {
    ReviewAction.SUBMIT: (frozenset({ReviewStatus.DRAFT}), ReviewStatus.UNDER_REVIEW),
    ReviewAction.APPROVE: (frozenset({ReviewStatus.UNDER_REVIEW}), ReviewStatus.APPROVED),
    ReviewAction.RETURN: (
        frozenset({ReviewStatus.UNDER_REVIEW, ReviewStatus.APPROVED}),
        ReviewStatus.DRAFT,
    ),
}


def apply_review(
    record: ReviewRecord,
    action: ReviewAction,
    by: str,
    on: date,
    comment: str | None = None,
    *,
    role: str | None = None,
    knowledge_version: str | None = None,
) -> ReviewRecord:
    """The record after ``by`` does ``action`` on ``on``; refuses a transition that does not exist.

    An approval keeps the reviewer's ``role`` and the ``knowledge_version`` it was given in."""
    if not by.strip():
        raise InputError("a review action needs the reviewer's name", field="reviewer")
    allowed, target = TRANSITIONS[action]
    if record.status not in allowed:
        raise InputError(
            f"cannot {action.value} a statement that is {record.status.value}; "
            f"{action.value} applies to {', '.join(sorted(s.value for s in allowed))}",
            field="action",
        )
    if action is ReviewAction.RETURN and not (comment and comment.strip()):
        raise InputError(
            "returning a statement needs a comment saying what to change", field="comment"
        )
    if record.history and on < record.history[-1].on:
        raise InputError(
            f"review date {on} is before the last review ({record.history[-1].on})", field="date"
        )
    event = ReviewEvent(action=action, by=by.strip(), on=on, comment=comment)
    approved = target is ReviewStatus.APPROVED
    return ReviewRecord(
        status=target,
        reviewer=by.strip() if approved else None,
        role=role if approved else None,
        date=on if approved else None,
        knowledge_version=knowledge_version if approved else None,
        history=(*record.history, event),
    )
