"""Group commit: the rows of concurrent callers written in one transaction, each caller
returning only once its rows are committed (issue 20, item 5).

Why: every CDS Hooks call keeps the cards it shows before showing them (issue 16), and a commit
waits for the disk (``synchronous=FULL``: ~5 ms per fsync on the test machine, so one commit per
call capped a server at ~200 calls/s, whatever its CPUs). Callers that arrive while a commit is
on the disk are written together by the next one, as PostgreSQL does for concurrent sessions:
what each caller is told is unchanged (its rows are committed when ``submit`` returns; if the
transaction fails, every caller in it gets the error and nothing of theirs is kept).

Callers are threads (the routes' ``run_in_threadpool``), so the batching does not depend on an
event loop: the first caller to find no commit in progress writes everything waiting, the others
wait for the batch that carries their item.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

T = TypeVar("T")


@dataclass
class _Ticket(Generic[T]):
    item: T
    done: bool = False
    error: BaseException | None = None


class GroupCommit(Generic[T]):
    """``submit(item)`` returns when ``write`` has committed a batch holding ``item``."""

    def __init__(self, write: Callable[[Sequence[T]], None]) -> None:
        self._write = write
        self._changed = threading.Condition()
        self._waiting: list[_Ticket[T]] = []
        self._writing = False

    def submit(self, item: T) -> None:
        """Wait until ``item`` is committed; raise the error of the transaction that failed it."""
        ticket = _Ticket(item)
        with self._changed:
            self._waiting.append(ticket)
            while self._writing and not ticket.done:
                self._changed.wait()
            if not ticket.done:  # no commit in progress: this caller writes what is waiting
                batch, self._waiting = self._waiting, []
                self._writing = True
        if not ticket.done:
            self._commit(batch)
        if ticket.error is not None:
            raise ticket.error

    def _commit(self, batch: list[_Ticket[T]]) -> None:
        error: BaseException | None = None
        try:
            self._write([ticket.item for ticket in batch])
        except BaseException as failed:  # every caller of the batch is told, then it propagates
            error = failed
        with self._changed:
            for ticket in batch:
                ticket.done, ticket.error = True, error
            self._writing = False
            self._changed.notify_all()
