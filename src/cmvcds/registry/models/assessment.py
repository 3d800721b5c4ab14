"""Engine assessments of a subject, stored with the knowledge that produced them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cmvcds.registry.models.base import Audited, Base, utc_now


class StoredAssessment(Audited, Base):
    """The case given to the engine and its assessment JSON, with knowledge version and SHA-256."""

    __tablename__ = "assessments"

    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), index=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    assessed_on: Mapped[date] = mapped_column(Date)
    knowledge_version: Mapped[str] = mapped_column(String(40))
    knowledge_sha256: Mapped[str] = mapped_column(String(64))
    case_json: Mapped[str] = mapped_column(Text)
    assessment_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
