"""Group commit (issue 20, item 5): concurrent requests share a transaction, each resumes only
once its item is written, and a failed transaction fails every request in it and no other."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.exc import IntegrityError

from cmvcds.adapters.api.group_commit import GroupCommit
from cmvcds.adapters.api.store import CardsShown, CaseStore

T = TypeVar("T")


def _run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on a loop of its own, leaving the thread's event-loop policy as it was
    (``asyncio.run`` marks the main thread's loop as set to None, which other tests of the
    session would trip on)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()


class SlowDisk:
    """A blocking write that takes ``seconds`` (a commit waiting for its fsync) and records
    its batches; it fails a batch holding ``fail_on``."""

    def __init__(self, seconds: float, fail_on: str | None = None) -> None:
        self.seconds = seconds
        self.fail_on = fail_on
        self.batches: list[list[str]] = []
        self.threads: set[int] = set()

    def __call__(self, items: Sequence[str]) -> None:
        self.threads.add(threading.get_ident())
        time.sleep(self.seconds)
        if self.fail_on in items:
            raise OSError(f"disk full while writing {self.fail_on}")
        self.batches.append(list(items))


def test_concurrent_requests_share_commits_and_each_resumes_after_its_own() -> None:
    disk = SlowDisk(0.02)
    commits = GroupCommit(disk)
    resumed: list[str] = []

    async def request(item: str) -> None:
        await commits.submit(item)
        assert any(item in batch for batch in disk.batches)  # written before it resumed
        resumed.append(item)

    async def main() -> None:
        for wave in range(4):  # arrivals spread over several commits
            await asyncio.gather(*(request(f"call-{wave}-{i}") for i in range(10)))

    _run(main())
    written = [item for batch in disk.batches for item in batch]
    assert sorted(written) == sorted(resumed)
    assert len(written) == len(set(written)) == 40  # each exactly once
    assert len(disk.batches) <= 8  # 10 at a time: commits were shared (one each would be 40)
    assert threading.get_ident() not in disk.threads  # the blocking write never ran on the loop


def test_a_failed_commit_fails_only_the_bad_request_and_the_next_commit_proceeds() -> None:
    """Review: one failing item failed every call of its batch; its items are now written one
    by one, so only "bad" fails."""
    disk = SlowDisk(0.05, fail_on="bad")
    commits = GroupCommit(disk)

    async def request(item: str) -> str:
        try:
            await commits.submit(item)
        except OSError as error:
            return str(error)
        return "kept"

    async def main() -> list[str]:
        first = asyncio.create_task(request("first"))
        await asyncio.sleep(0.01)  # "first" is on the disk: the next three queue behind it
        rest = await asyncio.gather(*(request(i) for i in ("bad", "neighbour", "other")))
        after = await request("after")  # the failure left no writer stuck
        return [await first, *rest, after]

    outcome = _run(main())
    assert outcome == ["kept", "disk full while writing bad", "kept", "kept", "kept"]
    assert disk.batches == [["first"], ["neighbour"], ["other"], ["after"]]


def test_a_cancelled_request_does_not_stop_the_others() -> None:
    disk = SlowDisk(0.03)
    commits = GroupCommit(disk)

    async def main() -> None:
        first = asyncio.create_task(commits.submit("first"))
        await asyncio.sleep(0.01)
        gone = asyncio.create_task(commits.submit("gone"))
        stays = asyncio.create_task(commits.submit("stays"))
        await asyncio.sleep(0)
        gone.cancel()  # the client hung up: its cards are written all the same
        await first
        await stays
        with pytest.raises(asyncio.CancelledError):
            await gone

    _run(main())
    assert disk.batches == [["first"], ["gone", "stays"]]


def test_the_store_keeps_the_cards_of_calls_committed_together(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cards.sqlite3'}")
    calls = [
        CardsShown(
            "svc",
            f"hook-{i}",
            [{"uuid": f"u{i}", "indicator": "info", "summary": f"card {i}"}],
            "v",
        )
        for i in range(5)
    ]
    store.add_cards([*calls, CardsShown("svc", "no-cards", [], "v")])
    for call in calls:
        assert store.cards_shown(call.hook_instance) == call.cards
    assert store.cards_shown("no-cards") == []
    store.add_cards([])  # nothing to write: no empty insert


def test_a_card_breaking_a_constraint_fails_its_call_only(tmp_path: Path) -> None:
    """Review: calls committed together with one whose row breaks a NOT NULL constraint (no
    knowledge version) all failed; on a real SQLite store only that call fails now."""
    store = CaseStore(f"sqlite:///{tmp_path / 'cards.sqlite3'}")
    commits = GroupCommit(store.add_cards)
    card = {"uuid": "u", "indicator": "info", "summary": "card"}
    calls = [CardsShown("svc", f"hook-{i}", [card], "v") for i in range(3)]
    bad = CardsShown("svc", "hook-bad", [card], None)  # type: ignore[arg-type]

    async def request(call: CardsShown) -> str:
        try:
            await commits.submit(call)
        except IntegrityError:
            return "refused"
        return "kept"

    async def main() -> list[str]:
        return await asyncio.gather(*(request(c) for c in [calls[0], bad, *calls[1:]]))

    assert _run(main()) == ["kept", "refused", "kept", "kept"]
    assert [store.cards_shown(c.hook_instance) for c in calls] == [[card]] * 3
    assert store.cards_shown("hook-bad") == []
