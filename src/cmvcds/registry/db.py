"""Database engines and sessions.

``CMVCDS_DATABASE_URL`` picks the database; without it the registry is an SQLite file
(``cmvcds-registry.sqlite3`` in the working directory) in WAL mode with full synchronous
commits, so that an acknowledged write survives a killed process. PostgreSQL
(``postgresql+psycopg://…``) serves a multi-centre deployment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from cmvcds.registry.audit import install_audit_hook

__all__ = ["DEFAULT_URL", "Registry", "database_url", "make_engine"]

DEFAULT_URL = "sqlite:///cmvcds-registry.sqlite3"


def database_url(url: str | None = None) -> str:
    """The URL given, else ``CMVCDS_DATABASE_URL``, else the default SQLite file."""
    return url or os.environ.get("CMVCDS_DATABASE_URL") or DEFAULT_URL


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, full sync, foreign keys, a busy wait."""
    resolved = database_url(url)
    if resolved.startswith("sqlite"):
        engine = create_engine(resolved, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(resolved, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock at BEGIN: a reader that later writes can then never deadlock.
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
