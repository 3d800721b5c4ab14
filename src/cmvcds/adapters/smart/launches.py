"""SMART launches in flight and the browser sessions they open, in ``smart_launches``.

A launch row is keyed by the SHA-256 of its ``state`` (the state itself is only in the browser's
cookie and the authorization request), holds the PKCE verifier until the code comes back, and
is claimed once: a second callback with the same state finds it no longer pending. Once done,
the row holds the SHA-256 of the browser's session cookie and the key of the case opened, so
that the cookie opens that one case and nothing else (``ClinicalAccess``). The access and
refresh tokens, and the notes said while reading the record (who signed in, other patients'
resources refused), are stored only sealed with the session cookie (``sealed``): never in clear.
A row whose session has expired is deleted on the next access, sealed values and all.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, delete, insert, select, update

from cmvcds.adapters.smart.sealed import open_notes, seal_notes
from cmvcds.registry.web_tables import smart_launches

__all__ = [
    "LAUNCH_TTL_S",
    "SESSION_TTL_S",
    "Launch",
    "Session",
    "begin",
    "claim",
    "finish",
    "purge",
    "reopen",
    "row_key",
    "session_case",
    "session_launch",
    "state_id",
]

#: Longest time between the launch and the callback (the clinician logs in at the EHR meanwhile).
LAUNCH_TTL_S = 600
#: How long the browser session opened by a launch may reopen its case.
SESSION_TTL_S = 8 * 3600


@dataclass(frozen=True)
class Launch:
    iss: str
    token_endpoint: str
    code_verifier: str
    redirect_uri: str
    kind: str
    nonce: str = ""  # the OpenID Connect nonce sent; empty: openid was not asked for


@dataclass(frozen=True)
class Session:
    """A live session opened by a launch: where its tokens go and what they are sealed to."""

    row: str  # the launch's key (SHA-256 of its state), bound into the sealed tokens
    iss: str
    token_endpoint: str
    tokens_sealed: str | None
    case_key: int


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def row_key(state: str) -> str:
    """The launch row's key: the SHA-256 of its state."""
    return _hash(state)


def state_id(state: str) -> str:
    """A short public name of a launch (its hash's first 16 hex digits; never the state)."""
    return _hash(state)[:16]


def purge(engine: Engine) -> None:
    """Delete the launches never finished in time and the sessions expired, with their sealed
    tokens and notes: nothing of them is kept once they can no longer be used."""
    now = time.time()
    with engine.begin() as connection:
        connection.execute(
            delete(smart_launches).where(
                (
                    smart_launches.c.session_expires_at.is_(None)
                    & (smart_launches.c.expires_at < now)
                )
                | (smart_launches.c.session_expires_at < now)
            )
        )


def begin(engine: Engine, state: str, launch: Launch) -> None:
    """Record a pending launch (expired rows of other launches are removed first)."""
    purge(engine)
    now = time.time()
    with engine.begin() as connection:
        connection.execute(
            insert(smart_launches).values(
                state_hash=_hash(state),
                iss=launch.iss,
                token_endpoint=launch.token_endpoint,
                code_verifier=launch.code_verifier,
                redirect_uri=launch.redirect_uri,
                kind=launch.kind,
                nonce=launch.nonce,
                expires_at=now + LAUNCH_TTL_S,
                status="pending",
            )
        )


def claim(engine: Engine, state: str) -> Launch | None:
    """The pending launch of ``state``, claimed (atomically, once); None if unknown, used or
    expired."""
    key = _hash(state)
    pending = (
        smart_launches.c.state_hash == key,
        smart_launches.c.status == "pending",
        smart_launches.c.expires_at >= time.time(),
    )
    with engine.begin() as connection:
        row = connection.execute(select(smart_launches).where(*pending)).first()
        if row is None:
            return None
        claimed = connection.execute(
            update(smart_launches)
            .where(*pending)
            .values(status="claimed", code_verifier="", nonce="")
        )
        if claimed.rowcount != 1:  # another request claimed it meanwhile
            return None
    return Launch(
        row.iss, row.token_endpoint, row.code_verifier, row.redirect_uri, row.kind, row.nonce or ""
    )


def finish(
    engine: Engine,
    state: str,
    session: str,
    case_key: int,
    notes: list[str],
    tokens_sealed: str | None,
) -> None:
    """Mark the launch done: the session cookie ``session`` now opens case ``case_key``."""
    with engine.begin() as connection:
        connection.execute(
            update(smart_launches)
            .where(smart_launches.c.state_hash == _hash(state))
            .values(
                status="done",
                session_hash=_hash(session),
                session_expires_at=time.time() + SESSION_TTL_S,
                case_key=case_key,
                notes_json=seal_notes(notes, session, _hash(state)),
                tokens_sealed=tokens_sealed,
            )
        )


def _live(session: str) -> tuple[ColumnElement[bool], ...]:
    return (
        smart_launches.c.session_hash == _hash(session),
        smart_launches.c.status == "done",
        smart_launches.c.session_expires_at >= time.time(),
    )


def session_launch(engine: Engine, session: str) -> Session | None:
    """The launch behind a live session cookie (to read the record again)."""
    purge(engine)
    with engine.connect() as connection:
        row = connection.execute(select(smart_launches).where(*_live(session))).first()
    if row is None or row.case_key is None:
        return None
    return Session(row.state_hash, row.iss, row.token_endpoint, row.tokens_sealed, row.case_key)


def reopen(
    engine: Engine, session: str, row: str, notes: list[str], tokens_sealed: str | None
) -> None:
    """The record was read again: what was said while reading it, and the tokens now in use."""
    with engine.begin() as connection:
        connection.execute(
            update(smart_launches)
            .where(smart_launches.c.state_hash == row)
            .values(notes_json=seal_notes(notes, session, row), tokens_sealed=tokens_sealed)
        )


def session_case(engine: Engine, session: str) -> tuple[int, list[str]] | None:
    """The case a live session cookie opens, and what was said while reading the record."""
    purge(engine)
    with engine.connect() as connection:
        row = connection.execute(
            select(
                smart_launches.c.state_hash, smart_launches.c.case_key, smart_launches.c.notes_json
            ).where(*_live(session))
        ).first()
    if row is None or row.case_key is None:
        return None
    notes = open_notes(row.notes_json, session, row.state_hash) if row.notes_json else None
    return int(row.case_key), notes or []
