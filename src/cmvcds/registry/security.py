"""Passwords (argon2id), login throttling, expiring sessions and CSRF tokens.

Clock values are passed in (``now``) so that expiry and throttling are testable.

Throttling counts failed logins in a row per (user name, client address), not per account:
an attacker elsewhere cannot lock a user out, yet one client guessing one user's password gets
``FREE_ATTEMPTS`` tries and then waits ``BACKOFF`` doubling at each further try, up to
``MAX_BACKOFF`` (OWASP Authentication Cheat Sheet, "Login throttling"; NIST SP 800-63B §5.2.2
rate limiting). An attempt is counted *before* the password is checked, under a row lock and
committed at once, so concurrent guesses cannot all be checked before the count catches up.
Unknown user names are throttled and refused exactly like known ones, so no answer tells
which names exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cmvcds.errors import AccessDenied, InputError
from cmvcds.registry.models import LoginAttempt, User, WebSession

__all__ = [
    "BACKOFF",
    "FREE_ATTEMPTS",
    "MAX_BACKOFF",
    "SESSION_LIFETIME",
    "LoginResult",
    "LoginThrottled",
    "check_csrf",
    "hash_password",
    "login",
    "logout",
    "purge_expired_sessions",
    "resolve_session",
    "verify_password",
]

HASHER = PasswordHasher()  # argon2id with the library's recommended parameters
# Each argon2 hash takes 64 MiB: at most this many at once, so a burst of logins cannot
# exhaust the server's memory (they queue here, holding no database lock).
_HASHING = threading.BoundedSemaphore(4)
FREE_ATTEMPTS = 5  # failed logins in a row, per user name and client, before waits begin
BACKOFF = timedelta(seconds=1)  # the first wait; it doubles at each further failure
MAX_BACKOFF = timedelta(minutes=15)
FORGET_FAILURES = timedelta(hours=24)  # a streak of failures this old starts again from zero
SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        with _HASHING:
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


class LoginThrottled(AccessDenied):
    """Too many failed logins in a row for this user name from this client: wait and retry."""

    def __init__(self, wait: timedelta) -> None:
        self.retry_after = max(1, int(wait.total_seconds() + 0.999))
        super().__init__(
            "too many failed logins for this user name from your address; "
            f"try again in {self.retry_after} s"
        )


def login(
    session: Session, username: str, password: str, *, now: datetime, client: str = ""
) -> LoginResult:
    """Check the password of ``username`` logging in from ``client`` (an address).

    Commits ``session`` twice: once when the attempt is counted (before the slow password
    check, which then holds no lock), and the caller commits the new web session.
    """
    refused = AccessDenied("unknown user or wrong password")
    key = _digest(f"{username.casefold()}\x00{client}")
    _count_attempt(session, key, now)
    user = session.scalars(select(User).where(User.username == username)).first()
    password_hash = user.password_hash if user is not None and user.active else None
    session.commit()  # the attempt counts whatever follows; no lock held while hashing
    if user is None or password_hash is None:
        with _HASHING:
            HASHER.hash("equalise the time of an unknown user")
        raise refused
    if not verify_password(password_hash, password):
        raise refused
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))
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


def _count_attempt(session: Session, key: str, now: datetime) -> None:
    """Count one login attempt for ``key`` or raise ``LoginThrottled`` while it must wait."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row = None
    while row is None:  # a concurrent successful login may delete the row we are waiting for
        session.execute(
            insert(LoginAttempt)
            .values(key=key, failures=0, last_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        row = session.execute(
            select(LoginAttempt).where(LoginAttempt.key == key).with_for_update()
        ).scalar_one_or_none()
    last_at = _aware(row.last_at)
    if last_at is not None and now - last_at > FORGET_FAILURES:
        row.failures, row.blocked_until = 0, None
    blocked_until = _aware(row.blocked_until)
    if blocked_until is not None and blocked_until > now:
        session.commit()
        raise LoginThrottled(blocked_until - now)
    row.failures += 1  # counted now; a successful login deletes the row
    row.last_at = now
    if row.failures >= FREE_ATTEMPTS:
        wait = BACKOFF * 2 ** min(row.failures - FREE_ATTEMPTS, 20)
        row.blocked_until = now + min(wait, MAX_BACKOFF)
    session.flush()


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
