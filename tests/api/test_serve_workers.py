"""``cmvcds serve --workers 2``, the real server on real sockets: an EHR's pool of keep-alive
connections is spread over both workers (each its own ``SO_REUSEPORT`` socket, ADR 0032-cds22),
a dead worker is replaced by one that serves, a port already served still fails to start.

Which process holds which socket is read from Linux's ``/proc`` (tools/proc_sockets.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from proc_sockets import (
    LISTEN,
    connections_per_worker,
    listening_workers,
    port_sockets,
    socket_inodes,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "cmvcds", "serve", "--port", str(port), "--workers", "2"),
            *("--no-demo", "--insecure-no-jwt"),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"CMVCDS_DATABASE_URL": f"sqlite:///{tmp_path / 'served.sqlite3'}"},
    )


def _wait_for_workers(process: subprocess.Popen[str], port: int, count: int) -> dict[int, set[int]]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        workers = listening_workers(process.pid, port)
        if len(workers) == count:
            return workers
        time.sleep(0.3)
    raise AssertionError(f"not {count} listening workers: {workers}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = _free_port()
    process = _start(tmp_path, port)
    try:
        _wait_for_workers(process, port, 2)
        yield process, port
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _pool(port: int, size: int) -> list[socket.socket]:
    """``size`` connections opened at once, as an EHR's pool, each answered one keep-alive GET."""
    pool = []
    for _ in range(size):
        sock = socket.socket()
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # connecting
            sock.connect(("127.0.0.1", port))
        pool.append(sock)
    for sock in pool:
        sock.setblocking(True)
        sock.settimeout(30)
        sock.sendall(b"GET /api/v1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    for sock in pool:
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
    return pool


def test_each_worker_listens_on_a_socket_of_its_own_and_the_parent_on_none(
    server: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = server
    workers = listening_workers(process.pid, port)
    assert len(workers) == 2 and all(len(inodes) == 1 for inodes in workers.values())
    first, second = workers.values()
    assert first != second  # not one socket shared (uvicorn's own --workers)
    assert not socket_inodes(process.pid) & port_sockets(port, LISTEN)  # the parent never accepts


def test_a_pool_of_keep_alive_connections_is_spread_over_both_workers(
    server: tuple[subprocess.Popen[str], int],
) -> None:
    """The kernel assigns each connection to a worker by a hash of its ports: 24 connections all
    on one of two workers has a probability of 2⁻²³. With one shared socket, the worker that
    woke first accepted a burst whole (8 connections: 8/0 in 3 of 10 trials)."""
    process, port = server
    pool = _pool(port, 24)
    try:
        held = connections_per_worker(process.pid, port)
    finally:
        for sock in pool:
            sock.close()
    assert sum(held.values()) == 24
    assert min(held.values()) >= 1, held


def test_a_dead_worker_is_replaced_by_one_that_listens_and_serves(
    server: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = server
    dead = min(listening_workers(process.pid, port))
    os.kill(dead, signal.SIGKILL)
    workers = _wait_for_workers(process, port, 2)
    deadline = time.monotonic() + 60
    while dead in workers and time.monotonic() < deadline:  # the dead one's entry lingers a tick
        time.sleep(0.3)
        workers = _wait_for_workers(process, port, 2)
    assert dead not in workers
    for _ in range(3):
        pool = _pool(port, 24)  # every connection answered, whichever socket the kernel chose
        for sock in pool:
            sock.close()


def test_a_port_already_served_still_refuses_a_second_server(
    server: tuple[subprocess.Popen[str], int], tmp_path: Path
) -> None:
    _, port = server
    second = _start(tmp_path, port)
    _, stderr = second.communicate(timeout=90)
    assert second.returncode == 3  # uvicorn's startup failure
    assert "Address already in use" in stderr


def test_readyz_is_green_only_once_every_worker_listens(tmp_path: Path) -> None:
    """ADR 0033-cds23: a pool opened while one worker still starts stays on the other (bench_cds
    2026-12-08 01:21: 8/0). ``/readyz`` is polled from the server's start: every 200 comes when
    both workers listen (counted in /proc after the answer; a worker never stops listening
    meanwhile), and says so; a 503 said while one listened names the workers."""
    import httpx

    port = _free_port()
    process = _start(tmp_path, port)
    answers: list[tuple[int, dict[str, object], int]] = []
    try:
        deadline = time.monotonic() + 90
        with httpx.Client(timeout=10) as client:
            while time.monotonic() < deadline:
                assert process.poll() is None
                try:
                    response = client.get(f"http://127.0.0.1:{port}/readyz")
                except httpx.TransportError:
                    time.sleep(0.02)
                    continue
                answers.append(
                    (
                        response.status_code,
                        response.json(),
                        len(listening_workers(process.pid, port)),
                    )
                )
                if response.status_code == 200:
                    break
    finally:
        process.terminate()
        process.communicate(timeout=30)
    status, body, listening = answers[-1]
    assert status == 200 and listening == 2, answers
    assert body["checks"]["workers"] == "2 of 2"  # type: ignore[index]
    for status, body, _ in answers[:-1]:
        assert status == 503
        assert body["checks"]["workers"] == "1 of 2", body  # type: ignore[index]
        assert any("1 of 2 workers listen" in p for p in body["problems"])  # type: ignore[attr-defined]


def test_listening_sockets_counts_listeners_of_the_address_only() -> None:
    """The count ``/readyz`` reads: sockets listening on the address, not one merely bound
    (the parent's), nor one of another address on the same port."""
    from cmvcds.adapters.api.listener import _reuse_port_socket, listening_sockets

    bound = _reuse_port_socket(socket.AF_INET, ("127.0.0.1", 0))
    port = bound.getsockname()[1]
    first = _reuse_port_socket(socket.AF_INET, ("127.0.0.1", port))
    second = _reuse_port_socket(socket.AF_INET, ("127.0.0.1", port))
    other = _reuse_port_socket(socket.AF_INET, ("127.0.0.2", port))
    try:
        assert listening_sockets(socket.AF_INET, "127.0.0.1", port) == 0
        first.listen()
        other.listen()
        assert listening_sockets(socket.AF_INET, "127.0.0.1", port) == 1
        second.listen()
        assert listening_sockets(socket.AF_INET, "127.0.0.1", port) == 2
        assert listening_sockets(socket.AF_INET, "127.0.0.2", port) == 1
    finally:
        for sock in (bound, first, second, other):
            sock.close()
    if socket.has_ipv6:
        with contextlib.suppress(OSError):  # a machine without IPv6 loopback: not tested
            six = _reuse_port_socket(socket.AF_INET6, ("::1", 0))
            try:
                six.listen()
                assert listening_sockets(socket.AF_INET6, "::1", six.getsockname()[1]) == 1
            finally:
                six.close()
