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


def _fail(world: World, name: str, *, now: datetime, client: str = "10.0.0.1") -> str:
    with pytest.raises(AccessDenied) as error, world.registry.session(None) as s:
        security.login(s, name, "wrong password!", now=now, client=client)
    return str(error.value)


def test_login_throttling_backs_off_per_user_name_and_client(world: World) -> None:
    for _ in range(security.FREE_ATTEMPTS):
        assert "wrong password" in _fail(world, "entry_a", now=NOW)
    # this client now waits, even with the right password; the wait doubles at each failure
    with (
        pytest.raises(security.LoginThrottled, match="try again in 1 s"),
        world.registry.session(None) as s,
    ):
        security.login(s, "entry_a", PASSWORD, now=NOW, client="10.0.0.1")
    assert "wrong password" in _fail(world, "entry_a", now=NOW + timedelta(seconds=1))
    assert "try again in 2 s" in _fail(world, "entry_a", now=NOW + timedelta(seconds=1))
    # the user logging in from elsewhere is not locked out by the attacker
    with world.registry.session(None) as s:
        assert security.login(s, "entry_a", PASSWORD, now=NOW, client="10.9.9.9").user_id
    later = NOW + timedelta(seconds=3)
    with world.registry.session(None) as s:  # after the wait the right password is accepted
        assert security.login(s, "entry_a", PASSWORD, now=later, client="10.0.0.1").user_id
    assert "wrong password" in _fail(world, "entry_a", now=later)  # success reset the count


def test_the_wait_is_capped(world: World) -> None:
    moment = NOW
    for _ in range(40):  # one guess per longest wait: each is checked, never blocked longer
        assert _fail(world, "pi_a", now=moment) == "unknown user or wrong password"
        moment += security.MAX_BACKOFF


def test_throttling_does_not_tell_which_user_names_exist(world: World) -> None:
    answers = {}
    for name in ("entry_a", "nobody"):
        answers[name] = [_fail(world, name, now=NOW) for _ in range(security.FREE_ATTEMPTS + 1)]
    assert answers["entry_a"] == answers["nobody"]
    assert "too many failed logins" in answers["nobody"][-1]


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
