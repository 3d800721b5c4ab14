"""Passwords (argon2id), login throttling, expiring sessions and CSRF tokens.

Clock values are passed in (``now``) so that expiry and throttling are testable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cmvcds.errors import AccessDenied, InputError
from cmvcds.registry.models import User, WebSession

__all__ = [
    "LOCKOUT",
    "MAX_FAILURES",
    "SESSION_LIFETIME",
    "LoginResult",
    "check_csrf",
    "hash_password",
    "login",
    "logout",
    "purge_expired_sessions",
    "resolve_session",
    "verify_password",
]

HASHER = PasswordHasher()  # argon2id with the library's recommended parameters
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class LoginResult:
    """A started session: the token for the cookie (shown once), its CSRF token and expiry."""

    token: str
    csrf_token: str
    expires_at: datetime
    user_id: str


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def login(session: Session, username: str, password: str, *, now: datetime) -> LoginResult:
    """Check the password; after ``MAX_FAILURES`` failures the account waits ``LOCKOUT``."""
    refused = AccessDenied("unknown user or wrong password")
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        HASHER.hash("equalise the time of an unknown user")
        raise refused
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        raise AccessDenied(f"too many failed logins; try again after {locked_until:%H:%M} UTC")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        session.commit()  # the failure counts even though the caller's transaction fails
        raise refused
    user.failed_logins = 0
    user.locked_until = None
    purge_expired_sessions(session, now=now)
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + SESSION_LIFETIME
    session.add(
        WebSession(
            token_sha256=_digest(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
        )
    )
    session.flush()
    return LoginResult(token=token, csrf_token=csrf, expires_at=expires, user_id=user.id)


def resolve_session(session: Session, token: str, *, now: datetime) -> tuple[User, WebSession]:
    """The user of a live session; an unknown or expired token is refused (and purged)."""
    web = session.get(WebSession, _digest(token))
    expires = _aware(web.expires_at) if web is not None else None
    if web is None or expires is None or expires <= now:
        if web is not None:
            session.delete(web)
        raise AccessDenied("the session has expired; please log in again")
    user = session.get(User, web.user_id)
    if user is None or not user.active:
        raise AccessDenied("the session has expired; please log in again")
    return user, web


def purge_expired_sessions(session: Session, *, now: datetime) -> int:
    """Delete every expired web session (run at each login and by ``purge-sessions``)."""
    result = session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


def logout(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_sha256 == _digest(token)))


def check_csrf(web: WebSession, submitted: str | None) -> None:
    """Refuse a form whose CSRF token is not the session's."""
    if not submitted or not hmac.compare_digest(web.csrf_token, submitted):
        raise AccessDenied("the form's CSRF token is missing or wrong; reload the page")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
