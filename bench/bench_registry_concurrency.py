"""The registry under 32 concurrent writers on PostgreSQL (issue 17): throughput and p99 of CRF
saves through the real server, against a floor measured in the same run (``/api/v1/healthz``
under the same 32 clients), and the longest any request waited behind another's lock.

    .venv/bin/python bench/bench_registry_concurrency.py [--writers 32] [--seconds 20]

Creates its own database ``cmvcds_benchc_<random>`` through the ``test`` database on
127.0.0.1:5432 (``CMVCDS_BENCH_PG`` overrides), starts ``cmvcds serve --no-demo`` on it, and
drops it at the end. Each writer logs in (argon2 at the library's cost), enrols a mother and
then saves her valacyclovir form again and again (each save changes a value, so each writes the
audit trail, whose head every writer locks). A sampler reads ``pg_stat_activity`` every 20 ms
for sessions waiting on a lock; the registry gives up such a wait after ``LOCK_TIMEOUT_MS``
(a 503 the writer repeats), so no request may be seen waiting longer than that.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

import psycopg

from cmvcds.registry import migrate
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.db import LOCK_TIMEOUT_MS, Registry
from cmvcds.registry.models import Role
from cmvcds.registry.services import study

ADMIN = os.environ.get("CMVCDS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "bench passphrase 1"
SAMPLE_S = 0.02


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _call(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:  # fmt: skip
    """One request; a keep-alive connection the server closed while idle is opened again."""
    for attempt in (1, 2):
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read().decode(), dict(response.getheaders())
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            conn.close()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _until_done(conn: http.client.HTTPConnection, method: str, path: str, body: bytes,
                headers: dict[str, str]) -> tuple[int, str, dict[str, str]]:  # fmt: skip
    """A set-up request, repeated while the registry answers 503 (busy)."""
    for _ in range(100):
        status, text, got = _call(conn, method, path, body, headers)
        if status != 503:
            break
        time.sleep(0.1)
    return status, text, got


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.busy = 0
        self.errors: list[str] = []


def closed_loop(port: int, clients: int, seconds: float, work: type[Client]) -> tuple[Stats, float]:
    stats = Stats()
    ready = threading.Barrier(clients + 1)
    stop = threading.Event()

    def run(n: int) -> None:
        try:
            client = work(port, n, stats)
        except (AssertionError, OSError) as error:  # set-up failed: counted, the others go on
            with stats.lock:
                stats.errors.append(f"set-up of client {n}: {str(error)[:200]}")
            ready.wait()
            return
        ready.wait()
        while not stop.is_set():
            client.step()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.monotonic()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return stats, time.monotonic() - started


class Client:
    def __init__(self, port: int, n: int, stats: Stats) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.stats = stats

    def timed(self, method: str, path: str, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, str]:  # fmt: skip
        started = time.monotonic()
        status, text, _ = _call(self.conn, method, path, body, headers)
        took = time.monotonic() - started
        with self.stats.lock:
            if status == 503:
                self.stats.busy += 1
            elif status == 200:
                self.stats.latencies.append(took)
            else:
                self.stats.errors.append(f"{status} {text[:120]}")
        return status, text

    def step(self) -> None:
        self.timed("GET", "/api/v1/healthz")


class Writer(Client):
    """A site user saving one subject's valacyclovir form, a changed value each time."""

    def __init__(self, port: int, n: int, stats: Stats) -> None:
        super().__init__(port, n, stats)
        credentials = json.dumps({"username": f"writer{n}", "password": PASSWORD}).encode()
        status, text, _ = _until_done(self.conn, "POST", "/api/v1/registry/sessions", credentials,
                                      {"Content-Type": "application/json"})  # fmt: skip
        assert status == 201, text
        started = json.loads(text)
        self.csrf = started["csrf_token"]
        self.headers = {"Cookie": f"cmvcds_registry={started['token']}",
                        "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
        form = {"csrf": self.csrf, "kind": "mother", "hospital_record_number": f"B-{n}",
                "information_sheet_version": "IS-2.1", "signed_on": "2026-01-12",
                "enrolled_on": "2026-01-12"}  # fmt: skip
        status, text, headers = _until_done(self.conn, "POST", "/registry/enrol",
                                            urllib.parse.urlencode(form).encode(), self.headers)  # fmt: skip
        assert status == 303, text
        self.path = headers["location"].split("?")[0] + "/valacyclovir_start/valacyclovir"
        self.value = 0

    def step(self) -> None:
        self.value = 1 - self.value
        form = {"csrf": self.csrf, "f_treated": str(self.value), "reason": "bench re-entry"}
        status, text = self.timed("POST", self.path, urllib.parse.urlencode(form).encode(),
                                  self.headers)  # fmt: skip
        if status == 200 and "Saved." not in text:
            self.stats.errors.append("200 without Saved.")


class LockSampler(threading.Thread):
    """The longest wait on a lock seen in ``pg_stat_activity`` (sampled every ``SAMPLE_S``)."""

    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.stop, self.longest, self.samples = dsn, threading.Event(), 0.0, 0

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            while not self.stop.is_set():
                waited = connection.execute(
                    "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - state_change)), 0) "
                    "FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                ).fetchone()
                self.longest = max(self.longest, float(waited[0]) if waited else 0.0)
                self.samples += 1
                time.sleep(SAMPLE_S)


def summary(stats: Stats, wall: float) -> dict[str, float]:
    ms = sorted(x * 1000 for x in stats.latencies)
    return {
        "requests": len(ms), "per_s": len(ms) / wall, "p50_ms": statistics.median(ms),
        "p99_ms": ms[max(0, int(len(ms) * 0.99) - 1)], "max_ms": ms[-1], "busy_503": stats.busy,
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    name = f"cmvcds_benchc_{secrets.token_hex(4)}"
    base = ADMIN.rsplit("/", 1)[0]
    dsn, url = f"{base}/{name}", f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://")
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    server = None
    try:
        registry = Registry(url)
        migrate.upgrade(registry.engine)
        with registry.session(SYSTEM) as s:
            sites = [study.create_site(s, SYSTEM, code=c, name=c).id for c in ("FI01", "BO01")]
        with registry.session(SYSTEM) as s:
            for n in range(args.writers):
                study.create_user(s, SYSTEM, username=f"writer{n}", password=PASSWORD,
                                  role=Role.SITE_DATA_ENTRY, site_id=sites[n % 2])  # fmt: skip
        registry.dispose()
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "cmvcds", "serve", "--no-demo", "--port", str(port)],
            env={**os.environ, "CMVCDS_DATABASE_URL": url}, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                _call(
                    http.client.HTTPConnection("127.0.0.1", port, timeout=2),
                    "GET",
                    "/api/v1/healthz",
                )
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        floor, floor_wall = closed_loop(port, args.writers, args.seconds / 2, Client)
        sampler = LockSampler(dsn)
        sampler.start()
        writes, wall = closed_loop(port, args.writers, args.seconds, Writer)
        sampler.stop.set()
        sampler.join()
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]
    f, w = summary(floor, floor_wall), summary(writes, wall)
    load = os.getloadavg()[0]
    print(f"load average {load:.1f}; {args.writers} clients, closed loop")
    print("floor  GET /api/v1/healthz: {requests} in {0:.1f} s = {per_s:.0f}/s, p50 {p50_ms:.1f} ms, "
          "p99 {p99_ms:.1f} ms, max {max_ms:.0f} ms".format(floor_wall, **f))  # fmt: skip
    print("writes CRF form saves:      {requests} in {0:.1f} s = {per_s:.0f}/s, p50 {p50_ms:.1f} ms, "
          "p99 {p99_ms:.1f} ms, max {max_ms:.0f} ms, {busy_503:.0f} answered 503 busy".format(wall, **w))  # fmt: skip
    print(
        f"ratio: writes/s = {w['per_s'] / f['per_s']:.3f} of the floor; "
        f"p99 = {w['p99_ms'] / f['p99_ms']:.1f} × the floor's"
    )
    print(
        f"longest lock wait seen: {sampler.longest * 1000:.0f} ms over {sampler.samples} samples "
        f"(the registry gives up at {LOCK_TIMEOUT_MS} ms)"
    )
    failures = writes.errors + floor.errors
    if failures:
        print(f"FAILED: {len(failures)} unexpected answers, e.g. {failures[:3]}")
    waited_too_long = (
        sampler.longest * 1000 > LOCK_TIMEOUT_MS + 200
    )  # the sampling period, a margin
    if waited_too_long:
        print("FAILED: a request waited behind another's lock longer than the registry allows")
    return 1 if failures or waited_too_long or not writes.latencies else 0


if __name__ == "__main__":
    sys.exit(main())
