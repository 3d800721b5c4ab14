"""Group commit: the items of concurrent requests written in one transaction, each request
resuming only once its item is committed (issue 20, item 5).

Why: every CDS Hooks call keeps the cards it shows before showing them (issue 16), and a commit
waits for the disk (``synchronous=FULL``: ~5 ms per fsync on the test machine, so one commit per
call capped a server at ~200 calls/s, whatever its CPUs), and each call sent its commit to a
worker thread (~75 us of CPU per hop). Here the requests of one event loop queue their items;
one writer task per loop sends everything queued to a thread as one transaction, and while that
commit is on the disk the next requests queue for the next one — as PostgreSQL does for
concurrent sessions. What each request is told is unchanged: its item is committed when
``submit`` returns. If a shared transaction fails, its items are written again one per
transaction, so only the request whose own item fails gets the error (one bad item does not
fail its neighbours). A request cancelled while waiting leaves its item to be written all the
same.

The writer's thread is not drawn from the loop's default thread pool (anyio's 40 tokens, which
the requests share): each loop's writer has a thread of its own, so a commit never queues behind
requests that hold every thread — if one of them waited for that commit, the worker would hang
for good. It is handed the batch by ``loop.run_in_executor`` on that one-thread executor, with
the writer task's context, as anyio's ``to_thread.run_sync`` did: the same thread hop without
anyio's cancel scope and limiter around it, ~0.1–0.2 ms less of the event loop's CPU a commit
(in process, each call committing alone: 3.32 against 3.54 ms a call; issue 20 item 5, cds23).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

__all__ = ["GroupCommit"]

T = TypeVar("T")


@dataclass
class _Queue(Generic[T]):
    """The items waiting on one event loop, the task writing them (None: no commit runs) and
    its own thread token (one writer per loop: one thread at a time)."""

    waiting: list[tuple[T, asyncio.Future[None]]] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None
    thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="cmvcds-commit")
    )

    def __post_init__(self) -> None:  # a loop gone, its writer's thread ends
        weakref.finalize(self, self.thread.shutdown, wait=False)


class GroupCommit(Generic[T]):
    """``await submit(item)`` returns when ``write`` (blocking, run in a thread) has committed a
    batch holding ``item``."""

    def __init__(self, write: Callable[[Sequence[T]], None]) -> None:
        self._write = write
        self._queues: WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue[T]] = WeakKeyDictionary()

    async def submit(self, item: T) -> None:
        """Wait until ``item`` is committed; raise the error of the transaction that failed it."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        done: asyncio.Future[None] = loop.create_future()
        queue.waiting.append((item, done))
        if queue.writer is None:
            queue.writer = loop.create_task(self._drain(queue))
        await done

    async def _drain(self, queue: _Queue[T]) -> None:
        while True:
            batch, queue.waiting = queue.waiting, []
            try:
                errors = await self._commit([item for item, _ in batch], queue.thread)
            except BaseException:  # the loop is closing: nobody is left waiting for an answer
                queue.writer = None
                for _, done in batch + queue.waiting:
                    done.cancel()
                raise
            if not queue.waiting:
                queue.writer = None  # before waking anyone: the next submit starts a writer
            for (_, done), error in zip(batch, errors, strict=True):
                if done.done():  # its request was cancelled meanwhile
                    continue
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)
            if queue.writer is None:
                return

    async def _commit(self, items: list[T], thread: ThreadPoolExecutor) -> list[Exception | None]:
        """Write ``items`` in one transaction; if it fails, each in its own: the error of each
        item (None: committed)."""
        try:
            await self._in_thread(items, thread)
        except Exception as failed:
            if len(items) == 1:
                return [failed]
        else:
            return [None] * len(items)
        errors: list[Exception | None] = []
        for item in items:
            try:
                await self._in_thread([item], thread)
            except Exception as failed:  # this item's own fault: told to its request only
                errors.append(failed)
            else:
                errors.append(None)
        return errors

    async def _in_thread(self, items: list[T], thread: ThreadPoolExecutor) -> None:
        """``write(items)`` in the writer's thread, in this task's context. Cancelled meanwhile
        (the loop closing), the write still ends in its thread, as with anyio's
        ``run_sync``; its requests are cancelled either way (``_drain``)."""
        run = functools.partial(contextvars.copy_context().run, self._write, items)
        await asyncio.get_running_loop().run_in_executor(thread, run)
