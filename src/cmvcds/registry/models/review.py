"""The review status of the statements answers are built on (issue 10, item 4).

One row per statement (or generated-statement template) of the answer pack: where it stands,
who acted last, on which date, with what comment, against which knowledge version. The row is
``Audited``: every submit, approval and return lands in the audit trail, which is the
statement's history (``services.reviews.history``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cmvcds.registry.models.base import Audited, Base

#: The stored statuses: the engine's three, and ``returned`` (a draft sent back with a comment).
REVIEW_STATUSES = ("draft", "under_review", "approved", "returned")


class StatementReview(Audited, Base):
    """The current review state of one answer statement; its history is the audit trail."""

    __tablename__ = "statement_reviews"
    __audit_site__ = None

    statement_id: Mapped[str] = mapped_column(String(120), unique=True)
    knowledge_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    reviewer: Mapped[str] = mapped_column(String(80))
    reviewed_on: Mapped[date] = mapped_column(Date)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
