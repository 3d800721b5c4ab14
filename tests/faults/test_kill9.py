"""kill -9 of the real server while users enrol and save CRF forms concurrently, repeated.

Every write the server acknowledged (a 303 to the new subject, a 303 back to the saved form) must be
committed at the moment it is acknowledged (an independent reader sees it at once, the user's
next page finds it) and must be in the database after the restart; the audit trail must verify
(``cmvcds registry verify-audit``). One lost write fails the test.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, select

from cmvcds.registry.models import DataValue, IdentityLink, Subject

from ..registry.conftest import World
from .client import Down, Reply, Server, User, enrolled, saved

WRITERS = 6
ROUNDS = 2


class Ledger:
    """What the server acknowledged, what was in flight at the kill, what was wrong at once."""

    def __init__(self, reader_url: str) -> None:
        self.lock = threading.Lock()
        self.subjects: dict[str, str] = {}  # hospital record number → pseudonym
        self.values: dict[str, str] = {}  # pseudonym → last acknowledged ``treated``
        self.in_flight: dict[str, str] = {}  # pseudonym → value being saved at the kill
        self.problems: list[str] = []
        self.acks = 0
        self.busy = 0  # 503 answers (a lock not obtained in time): allowed, asked again
        # A plain engine (no BEGIN IMMEDIATE): it reads the last committed state without waiting.
        self.reader = create_engine(reader_url)

    def committed_value(self, pseudonym: str) -> str | None:
        with self.reader.connect() as connection:
            return connection.scalar(
                select(DataValue.value)
                .join(Subject, Subject.id == DataValue.subject_id)
                .where(Subject.pseudonym == pseudonym, DataValue.field == "treated")
            )

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)


def _answered(ledger: Ledger, call: Callable[..., Reply], *args: str) -> Reply:
    """The reply, asking again after a 503 (busy: nothing was written, as the server says)."""
    for _ in range(50):
        reply = call(*args)
        if reply.status != 503:
            return reply
        with ledger.lock:
            ledger.busy += 1
        time.sleep(0.05)
    return reply


def writer(port: int, username: str, tag: str, ledger: Ledger, stop: threading.Event) -> None:
    try:
        user = User(port, username)
    except Down:
        return
    except AssertionError as error:  # the login itself failed
        ledger.problem(f"login {username}: {error}")
        return
    try:
        count = 0
        while not stop.is_set():
            mrn = f"{tag}-{count}"
            count += 1
            reply = _answered(ledger, lambda m: user.enrol(m)[0], mrn)
            pseudonym = enrolled(reply)
            if pseudonym is None:
                ledger.problem(f"enrolment {mrn}: {reply.status} {reply.body[:200]}")
                return
            with ledger.lock:
                ledger.subjects[mrn] = pseudonym
                ledger.acks += 1
            page = _answered(ledger, user.call, "GET", f"/registry/subjects/{pseudonym}?enrolled=1")
            if page.status != 200:
                ledger.problem(f"enrolled {pseudonym} but its page answered {page.status}")
            for value, reason in (("1", ""), ("0", "corrected from the pharmacy record")):
                with ledger.lock:
                    ledger.in_flight[pseudonym] = value
                reply = _answered(ledger, user.save_treated, pseudonym, value, reason)
                if not saved(reply):
                    ledger.problem(f"save {pseudonym}={value}: {reply.status} {reply.body[:200]}")
                    return
                with ledger.lock:
                    ledger.values[pseudonym] = value
                    ledger.in_flight.pop(pseudonym, None)
                    ledger.acks += 1
                if (found := ledger.committed_value(pseudonym)) != value:
                    ledger.problem(f"{pseudonym}: acknowledged {value} but committed is {found}")
    except Down:
        return  # killed: the request in flight was never acknowledged
    finally:
        user.close()


def _verify_audit(url: str) -> subprocess.CompletedProcess[str]:
    cli = [sys.executable, "-m", "cmvcds", "registry", "verify-audit", "--db", url]
    return subprocess.run(cli, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})  # fmt: skip


@pytest.mark.slow
def test_kill9_under_concurrent_writers_loses_no_acknowledged_write(
    world: World, database_url: str
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    ledger = Ledger(database_url)
    server = Server(database_url)
    try:
        for round_ in range(ROUNDS):
            server.start()
            stop = threading.Event()
            threads = [
                threading.Thread(target=writer, args=(
                    server.port, ("entry_a", "pi_a", "entry_b")[n % 3], f"R{round_}W{n}", ledger, stop))
                for n in range(WRITERS)
            ]  # fmt: skip
            start_acks = ledger.acks
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 20
            while ledger.acks < start_acks + 12 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 1.0))  # a random point in the stream of writes
            server.kill()
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            assert ledger.acks >= start_acks + 12, f"round {round_}: too few writes acknowledged"
    finally:
        server.kill()

    assert not ledger.problems, f"seed {seed}: {ledger.problems[:5]}"
    with ledger.reader.connect() as connection:
        stored = dict(connection.execute(
            select(IdentityLink.hospital_record_number, Subject.pseudonym)
            .join(Subject, Subject.id == IdentityLink.subject_id)).all())  # fmt: skip
    lost = {mrn for mrn, key in ledger.subjects.items() if stored.get(mrn) != key}
    assert not lost, f"seed {seed}: acknowledged enrolments lost: {sorted(lost)[:5]}"
    for pseudonym, value in ledger.values.items():
        found = ledger.committed_value(pseudonym)
        allowed = {value, ledger.in_flight.get(pseudonym)}
        assert found in allowed, f"seed {seed}: {pseudonym} acknowledged {value}, stored {found}"
    ledger.reader.dispose()
    verified = _verify_audit(database_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
