"""Group commit (issue 20, item 5): concurrent callers share a transaction, each returns only
once its item is written, and a failed transaction fails every caller in it and no other."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cmvcds.adapters.api.group_commit import GroupCommit
from cmvcds.adapters.api.store import CaseStore


class SlowDisk:
    """A write that takes ``seconds`` (a commit waiting for its fsync) and records batches."""

    def __init__(self, seconds: float, fail_on: str | None = None) -> None:
        self.seconds = seconds
        self.fail_on = fail_on
        self.batches: list[list[str]] = []
        self.lock = threading.Lock()

    def __call__(self, items: Sequence[str]) -> None:
        time.sleep(self.seconds)
        if self.fail_on in items:
            raise OSError(f"disk full while writing {self.fail_on}")
        with self.lock:
            self.batches.append(list(items))


def test_concurrent_callers_share_commits_and_each_returns_after_its_own() -> None:
    disk = SlowDisk(0.02)
    commits = GroupCommit(disk)
    returned: list[str] = []

    def call(item: str) -> None:
        commits.submit(item)
        with disk.lock:  # returned only after a batch holding it was written
            assert any(item in batch for batch in disk.batches)
            returned.append(item)

    items = [f"call-{i}" for i in range(40)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(call, items))
    written = [item for batch in disk.batches for item in batch]
    assert sorted(written) == sorted(items) == sorted(returned)  # each exactly once
    assert len(disk.batches) < len(items) / 2  # 16 waiting callers: commits were shared


def test_a_failed_commit_fails_every_caller_in_it_and_the_next_commit_proceeds() -> None:
    disk = SlowDisk(0.05, fail_on="bad")
    commits = GroupCommit(disk)
    started = threading.Event()

    def first() -> None:
        started.set()
        commits.submit("first")  # written alone, while the others queue behind it

    outcome: dict[str, str] = {}

    def call(item: str) -> None:
        try:
            commits.submit(item)
            outcome[item] = "kept"
        except OSError as error:
            outcome[item] = str(error)

    with ThreadPoolExecutor(4) as pool:
        head = pool.submit(first)
        started.wait()
        time.sleep(0.01)  # "first" is on the disk: the next three queue into one batch
        list(pool.map(call, ["bad", "neighbour", "other"]))
        head.result()
    assert disk.batches[0] == ["first"]
    assert outcome == {
        "bad": "disk full while writing bad",
        "neighbour": "disk full while writing bad",
        "other": "disk full while writing bad",
    }
    commits.submit("after")  # the failure left no commit 'in progress'
    assert disk.batches[-1] == ["after"]


def test_the_store_keeps_the_cards_of_concurrent_calls(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cards.sqlite3'}")

    def show(i: int) -> None:
        card = {"uuid": f"u{i}", "indicator": "info", "summary": f"card {i}"}
        store.add_cards("svc", f"hook-{i}", [card], "2026.12.1")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(show, range(32)))
    for i in range(32):
        assert store.cards_shown(f"hook-{i}") == [
            {"uuid": f"u{i}", "indicator": "info", "summary": f"card {i}"}
        ]


def test_no_cards_writes_nothing(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'none.sqlite3'}")
    store.add_cards("svc", "hook", [], "v")
    assert store.cards_shown("hook") == []
