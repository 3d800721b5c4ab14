"""Declarative base, naming convention and the helpers every model shares."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A random, unguessable identifier (UUID4 hex): record ids never reveal a count or a site."""
    return uuid.uuid4().hex


def utc_now() -> datetime:
    """The current time in UTC (the only clock of the registry; the engine never reads it)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Audited:
    """Mixin: every insert, update and delete of this entity is written to the audit trail.

    ``__audit_site__`` names the column holding the site of the row (for the trail's ``site_id``);
    ``__audit_skip__`` the columns kept out of the trail; ``__audit_sealed__`` the secret ones
    the trail records only as a keyed seal.
    """

    __audit_site__: str | None = "site_id"
    __audit_skip__: frozenset[str] = frozenset()
    #: secret columns recorded only as a keyed seal (``audit.sealed``), never as their value
    __audit_sealed__: frozenset[str] = frozenset()

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
