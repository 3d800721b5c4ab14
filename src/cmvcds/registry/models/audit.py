"""The append-only audit trail, its chain head, and the export log.

The database refuses UPDATE and DELETE on ``audit_entries`` (triggers, created by the
migrations); each entry carries an HMAC-SHA256, under a key held outside the database, of its
content and the previous entry's hash, so a forged, re-hashed or removed entry breaks the chain
(``cmvcds registry verify-audit``). Entries written before the chain was keyed (migration 0004)
carry a plain SHA-256: ``audit_head.keyed_from`` is the first keyed entry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cmvcds.registry.models.base import Base, new_id, utc_now

GENESIS = "0" * 64


class AuditEntry(Base):
    """One create/update/delete (or export) of one field: who, when (UTC), site, old → new, why."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, hashed as written
    user_id: Mapped[str | None] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(80))
    site_id: Mapped[str | None] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(32), index=True)
    field: Mapped[str | None] = mapped_column(String(100))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row holding the last sequence number and hash; writers lock it to append."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    #: the first entry under the keyed scheme (the ones before are legacy SHA-256 entries)
    keyed_from: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class ExportLog(Base):
    """Every export: who, when, what format and profile, how many subjects, the payload's SHA-256."""

    __tablename__ = "export_log"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    user_id: Mapped[str] = mapped_column(String(32))
    site_id: Mapped[str | None] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(20))
    profile: Mapped[str] = mapped_column(String(20))
    subjects: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))


class DictionaryVersion(Base):
    """An imported data dictionary (REDCap CSV text); the newest one is in force."""

    __tablename__ = "dictionary_versions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    version: Mapped[str] = mapped_column(String(40))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    sha256: Mapped[str] = mapped_column(String(64))
    csv_text: Mapped[str] = mapped_column(Text)
