"""Subjects (the pregnant woman and her newborn), the separate identity link, and consent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cmvcds.registry.models.base import Audited, Base, utc_now


class Subject(Audited, Base):
    """A study subject, known to the study only by a site-scoped pseudonym."""

    __tablename__ = "subjects"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # mother | newborn
    mother_id: Mapped[str | None] = mapped_column(ForeignKey("subjects.id"), default=None)
    enrolled_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class IdentityLink(Audited, Base):
    """Pseudonym → hospital record number (GDPR Art. 4(5)); readable only by the subject's site."""

    __tablename__ = "identity_links"
    # One subject per hospital record number at a site: a second enrolment is refused.
    __table_args__ = (
        Index("ix_identity_links_site_record", "site_id", "hospital_record_number", unique=True),
    )

    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), unique=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    hospital_record_number: Mapped[str] = mapped_column(String(80))


class Consent(Audited, Base):
    """Consent to the study (and the written 648/96 consent); a withdrawal date ends the use of data."""

    __tablename__ = "consents"
    __audit_reason_required__ = True

    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), index=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    information_sheet_version: Mapped[str] = mapped_column(String(40))
    signed_on: Mapped[date] = mapped_column(Date)
    scope: Mapped[str] = mapped_column(String(200))
    written_648_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn_on: Mapped[date | None] = mapped_column(Date, default=None, index=True)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text, default=None)


class DateShift(Audited, Base):
    """The secret date offset of a mother and her newborns, for the central profile's shifting.

    Drawn at random when the mother is enrolled (or at her first central export); never exported
    and never written to the audit trail (its creation is, without the value).
    """

    __tablename__ = "date_shifts"
    __audit_skip__ = frozenset({"offset_days"})

    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), unique=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    offset_days: Mapped[int] = mapped_column(Integer)
