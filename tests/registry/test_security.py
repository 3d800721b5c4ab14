"""Passwords hashed with argon2, login throttling, expiring sessions, CSRF tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cmvcds.errors import AccessDenied
from cmvcds.registry import security
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.models import AuditEntry, User

from .conftest import PASSWORD, World

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_password_is_an_argon2_hash_and_only_its_keyed_seal_is_audited(world: World) -> None:
    with world.registry.session(SYSTEM) as s:
        user = s.scalars(select(User).where(User.username == "entry_a")).one()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        trail = list(s.scalars(select(AuditEntry).where(AuditEntry.entity == "users")))
    recorded = {e.field: e.new_value for e in trail if e.entity_id == user.id}
    assert "username" in recorded
    # the trail holds a keyed seal of the hash (issue 17: a hash swapped with SQL is detected),
    # never the hash itself
    assert recorded["password_hash"] is not None and recorded["password_hash"].startswith("sealed:")
    assert all(user.password_hash not in (e.new_value or "") for e in trail)


def test_login_session_expiry_and_csrf(world: World) -> None:
    with world.registry.session(None) as s:
        started = security.login(s, "entry_a", PASSWORD, now=NOW)
    with world.registry.session(None) as s:
        user, web = security.resolve_session(
            s, started.token, now=NOW + timedelta(hours=7, minutes=59)
        )
        assert user.username == "entry_a"
        security.check_csrf(web, started.csrf_token)
        with pytest.raises(AccessDenied, match="CSRF"):
            security.check_csrf(web, "forged")
        with pytest.raises(AccessDenied, match="CSRF"):
            security.check_csrf(web, None)
    with pytest.raises(AccessDenied, match="expired"), world.registry.session(None) as s:
        security.resolve_session(s, started.token, now=NOW + security.SESSION_LIFETIME)
    with pytest.raises(AccessDenied, match="expired"), world.registry.session(None) as s:
        security.resolve_session(s, "not-a-token", now=NOW)


def test_logout_ends_the_session(world: World) -> None:
    with world.registry.session(None) as s:
        started = security.login(s, "entry_a", PASSWORD, now=NOW)
    with world.registry.session(None) as s:
        security.logout(s, started.token)
    with pytest.raises(AccessDenied), world.registry.session(None) as s:
        security.resolve_session(s, started.token, now=NOW)


def test_login_throttling_locks_after_five_failures(world: World) -> None:
    for attempt in range(security.MAX_FAILURES):
        with pytest.raises(AccessDenied, match="wrong password"), world.registry.session(None) as s:
            security.login(s, "entry_a", f"wrong {attempt}", now=NOW)
    # now even the right password waits for the lockout to end
    with (
        pytest.raises(AccessDenied, match="too many failed logins"),
        world.registry.session(None) as s,
    ):
        security.login(s, "entry_a", PASSWORD, now=NOW + security.LOCKOUT - timedelta(seconds=1))
    with world.registry.session(None) as s:
        assert security.login(s, "entry_a", PASSWORD, now=NOW + security.LOCKOUT).user_id


def test_unknown_user_and_wrong_password_read_alike(world: World) -> None:
    messages = []
    for name in ("entry_a", "nobody"):
        with pytest.raises(AccessDenied) as error, world.registry.session(None) as s:
            security.login(s, name, "wrong password", now=NOW)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


def test_expired_sessions_are_purged_at_login_and_on_demand(world: World) -> None:
    from cmvcds.registry.models import WebSession

    with world.registry.session(None) as s:
        old = security.login(s, "entry_a", PASSWORD, now=NOW)
        security.login(s, "pi_a", PASSWORD, now=NOW + timedelta(hours=1))
    later = NOW + security.SESSION_LIFETIME  # the first has just expired, the second not yet
    with world.registry.session(None) as s:
        fresh = security.login(s, "dm", PASSWORD, now=later)
    with world.registry.session(None) as s:
        users = {w.user_id for w in s.scalars(select(WebSession))}
        assert old.user_id not in users and fresh.user_id in users and len(users) == 2
        assert security.purge_expired_sessions(s, now=later + timedelta(hours=1)) == 1
        assert security.purge_expired_sessions(s, now=later + timedelta(hours=1)) == 0
        assert [w.user_id for w in s.scalars(select(WebSession))] == [fresh.user_id]
