"""Database engines and sessions.

``CMVCDS_DATABASE_URL`` picks the database; without it the registry is an SQLite file
(``cmvcds-registry.sqlite3`` in the working directory) in WAL mode with full synchronous
commits, so that an acknowledged write survives a killed process. PostgreSQL
(``postgresql+psycopg://…``) serves a multi-centre deployment.

No request waits long behind another's lock: PostgreSQL gives up a lock wait after
``LOCK_TIMEOUT`` (``lock_timeout``), a statement after ``STATEMENT_TIMEOUT`` and a transaction
left idle after ``IDLE_TIMEOUT``; SQLite's busy wait is ``LOCK_TIMEOUT`` too. The web layer
turns such a refusal into 503 "busy, try again" (``is_lock_timeout``), and a row another user
created at the same moment (a unique key taken meanwhile) into 409 "conflict" (``is_conflict``).

Every engine hides its statements' bound parameters (``hide_parameters``): a failed write's
error text never carries a hospital record number or a CRF value (probe12 finding 1; the log
formatter also drops database error messages, ``cmvcds.adapters.api.logs``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cmvcds.registry.audit import install_audit_hook
from cmvcds.registry.locks import LOCK_TIMEOUT_MS, STATEMENT_TIMEOUT_MS

__all__ = [
    "DEFAULT_URL",
    "LOCK_TIMEOUT_MS",
    "Registry",
    "database_url",
    "is_conflict",
    "is_lock_timeout",
    "make_engine",
]

DEFAULT_URL = "sqlite:///cmvcds-registry.sqlite3"
IDLE_TIMEOUT_MS = 30_000
# PostgreSQL SQLSTATEs of a given-up wait: lock_not_available, query_canceled (statement
# timeout), deadlock_detected, serialization_failure.
_BUSY_SQLSTATES = {"55P03", "57014", "40P01", "40001"}
_UNIQUE_VIOLATION = "23505"


def database_url(url: str | None = None) -> str:
    """The URL given, else ``CMVCDS_DATABASE_URL``, else the default SQLite file."""
    return url or os.environ.get("CMVCDS_DATABASE_URL") or DEFAULT_URL


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url``: SQLite gets WAL, full sync, foreign keys and a short busy wait;
    PostgreSQL a short lock wait and bounded statements (see the module's docstring)."""
    resolved = database_url(url)
    if resolved.startswith("sqlite"):
        engine = create_engine(
            resolved, connect_args={"timeout": LOCK_TIMEOUT_MS / 1000}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_engine(
        resolved, pool_pre_ping=True, pool_size=10, max_overflow=30, hide_parameters=True
    )
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgresql_timeouts)
    return engine


def _postgresql_timeouts(dbapi_connection: Any, _record: Any) -> None:
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # SET outside a transaction: it lasts the connection
    cursor = dbapi_connection.cursor()
    cursor.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
    cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
    cursor.execute(f"SET idle_in_transaction_session_timeout = {IDLE_TIMEOUT_MS}")
    cursor.close()
    dbapi_connection.autocommit = autocommit


def is_lock_timeout(error: BaseException) -> bool:
    """Whether ``error`` is the database giving up a wait for another transaction's lock."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    return "database is locked" in str(original) or "database table is locked" in str(original)


def is_conflict(error: BaseException) -> bool:
    """Whether ``error`` is a unique key that another transaction took after this one read it
    free (two users creating the same row at once: the later one must reload, not fail)."""
    if not isinstance(error, IntegrityError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) == _UNIQUE_VIOLATION:
        return True
    return "UNIQUE constraint failed" in str(original)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_MS}")
    cursor.close()


#: Execution option of a read-only snapshot (``verify-audit``): on SQLite a deferred BEGIN, which
#: in WAL mode reads one snapshot without holding the write lock that writers queue for.
READ_SNAPSHOT = "cmvcds_read_snapshot"


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock at BEGIN: a reader that later writes can then never deadlock. A
    # read-only snapshot begins deferred instead and must not write (SQLite refuses the upgrade
    # only if another writer committed meanwhile: the caller never writes).
    if connection.get_execution_options().get(READ_SNAPSHOT):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Registry:
    """The study database: an engine and audited sessions bound to an acting user."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    @contextmanager
    def session(self, actor: Any = None, *, reason: str | None = None) -> Iterator[Session]:
        """A transaction acting as ``actor`` (an ``access.Actor``); commits on success."""
        session = self._sessions()
        install_audit_hook(session)
        session.info["actor"] = actor
        session.info["reason"] = reason
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
