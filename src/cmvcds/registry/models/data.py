"""CRF data (one row per subject × event × instrument × instance × field) and data queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cmvcds.registry.models.base import Audited, Base, utc_now


class CrfCell:
    """Mixin: the coordinates of one CRF field of one subject (event, instrument, instance)."""

    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), index=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    event: Mapped[str] = mapped_column(String(60))
    instrument: Mapped[str] = mapped_column(String(60))
    instance: Mapped[int] = mapped_column(Integer, default=1)
    field: Mapped[str] = mapped_column(String(100))


class DataValue(CrfCell, Audited, Base):
    """The current value of one CRF field; every earlier value is kept in the audit trail."""

    __audit_columns__ = ("value",)
    __audit_reason_required__ = True

    __tablename__ = "data_values"
    __table_args__ = (
        UniqueConstraint(
            "subject_id", "event", "instrument", "instance", "field", name="uq_data_values_cell"
        ),
        Index("ix_data_values_field_value", "field", "value"),
    )
    value: Mapped[str] = mapped_column(Text)

    def audit_label(self, _column: str) -> str:
        """The CRF coordinates of the value, as the audit trail names it."""
        return f"{self.event}/{self.instrument}#{self.instance}/{self.field}"


class QueryStatus:
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class DataQuery(CrfCell, Audited, Base):
    """A query (discrepancy) on a field: open → answered → closed."""

    __tablename__ = "data_queries"

    check_id: Mapped[str | None] = mapped_column(String(80), default=None)
    status: Mapped[str] = mapped_column(String(16), default=QueryStatus.OPEN, index=True)
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text, default=None)
    opened_by: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class FormVersion(Base):
    """How many times one form instance (subject × event × instrument × instance) was saved.

    The optimistic-concurrency token of the CRF pages (ADR 0031-fix8b): a form carries the
    version it was opened at, and a save moves it on only with ``UPDATE … WHERE version =
    <opened>`` (the first save: an ``INSERT`` that the unique key lets only one writer make), so
    of two saves from forms opened at the same version exactly one is stored. Not audited: it is
    concurrency bookkeeping; the values and who changed them are in the trail.
    """

    __tablename__ = "form_versions"
    __table_args__ = (
        UniqueConstraint(
            "subject_id", "event", "instrument", "instance", name="uq_form_versions_form"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"))
    event: Mapped[str] = mapped_column(String(60))
    instrument: Mapped[str] = mapped_column(String(60))
    instance: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    saved_by: Mapped[str] = mapped_column(String(80))
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
