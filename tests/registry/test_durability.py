"""No data lost: kill -9 the server while clients write; every acknowledged write survives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cmvcds.registry import audit
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.models import Consent, DataValue, IdentityLink, Subject

from .conftest import World

SERVER = Path(__file__).with_name("durability_server.py")
CLIENTS = 6
ACKS = 40


def start(url: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, str(SERVER), url, "entry_a"], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("PORT "), line
    return process, int(line.split()[1])


def post(port: int, mrn: str) -> str | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/write", data=json.dumps({"mrn": mrn}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(json.loads(response.read())["pseudonym"]) if response.status == 200 else None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_write(world: World, database_url: str) -> None:
    process, port = start(database_url)
    acknowledged: dict[str, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        count = 0
        while not stop.is_set():
            mrn = f"C{number}-{count}"
            count += 1
            key = post(port, mrn)
            if key is None:
                return  # the server is gone: this write was never acknowledged
            with lock:
                acknowledged[mrn] = key

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < ACKS and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)  # mid-stream: requests are in flight
    process.wait()
    stop.set()
    for thread in threads:
        thread.join()
    assert len(acknowledged) >= ACKS

    restarted, port = start(database_url)
    try:
        assert post(port, "after-restart") is not None  # the database opens and takes writes again
    finally:
        restarted.terminate()
        restarted.wait()

    with world.registry.session(SYSTEM) as s:
        stored = dict(s.execute(select(IdentityLink.hospital_record_number, Subject.pseudonym)
                                .join(Subject, Subject.id == IdentityLink.subject_id)).all())  # fmt: skip
        missing = {mrn for mrn, key in acknowledged.items() if stored.get(mrn) != key}
        assert not missing, f"acknowledged writes lost: {sorted(missing)[:5]}"
        # consistent: every subject committed whole (link, consent and form value), none half-written
        subjects = s.scalar(select(func.count()).select_from(Subject))
        for table in (IdentityLink, Consent, DataValue):
            assert s.scalar(select(func.count()).select_from(table)) == subjects, (
                table.__tablename__
            )
        audit.verify(s)
