"""Sites (REDCap data access groups), users with roles, and web sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cmvcds.registry.models.base import Audited, Base, utc_now


class Site(Audited, Base):
    """A participating centre."""

    __tablename__ = "sites"
    __audit_site__ = "id"

    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class User(Audited, Base):
    """A person with one role; site roles carry their site."""

    __tablename__ = "users"
    __audit_sealed__ = frozenset({"password_hash"})  # a keyed seal, never the hash

    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class WebSession(Base):
    """A login session: only the token's SHA-256 is stored; it expires."""

    __tablename__ = "web_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """Failed logins in a row for one user name from one client address (login throttling).

    ``key`` is the SHA-256 of the user name and the address, so that the table names neither;
    a row exists for unknown user names too, so throttling does not tell which names exist.
    """

    __tablename__ = "login_attempts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
