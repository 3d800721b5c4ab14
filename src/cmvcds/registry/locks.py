"""Bounded waits for the registry's one hot lock, the audit trail's head.

PostgreSQL's ``lock_timeout`` bounds each single lock wait, but a ``SELECT … FOR UPDATE`` on a
row that many transactions want waits first for the row's tuple lock and then for its holder's
transaction: two waits, each under the limit, can add up to more. ``bounded_wait`` gives the
statement itself ``LOCK_TIMEOUT_MS`` (``SET LOCAL statement_timeout``) and restores the usual
limit once the lock is held, so no writer waits behind another longer than that in all.
SQLite needs nothing: ``BEGIN IMMEDIATE`` took the write lock within its busy timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

__all__ = ["LOCK_TIMEOUT_MS", "STATEMENT_TIMEOUT_MS", "bounded_wait"]

LOCK_TIMEOUT_MS = 1000  # the longest a request waits for another's lock before a 503
STATEMENT_TIMEOUT_MS = 30_000


@contextmanager
def bounded_wait(connection: Connection) -> Iterator[None]:
    """Run the locking statement(s) inside within ``LOCK_TIMEOUT_MS`` on PostgreSQL."""
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {LOCK_TIMEOUT_MS}")
    yield  # on a timeout the transaction is aborted and rolled back: nothing to restore
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
