"""``cmvcds serve --workers N``: each worker its own listening socket (``SO_REUSEPORT``).

Why: uvicorn's supervisor binds one listening socket and every worker accepts from it. asyncio
accepts *every* pending connection when its socket turns readable, so a burst of connections —
an EHR opening its pool of a few keep-alive connections — lands on whichever worker woke first.
Measured (8 connections opened at once, 2 workers, 10 trials): 8/0 three times, 7/1 twice; with
the pool kept open, one core served every CDS call while the other idled (bench_cds 484 req/s in
one run, 735 in another, on the same machine). With ``SO_REUSEPORT`` each worker has its own
socket and accept queue, and the kernel assigns each new connection to one of them by a hash of
its addresses and ports, whichever worker is awake (ADR 0032-cds22).

How: uvicorn's supervisor (``uvicorn.supervisors.Multiprocess``) hands the parent's sockets to
each worker it starts by pickling them (multiprocessing, spawn). A ``ReusePortListener``
pickles as its address, not as a file descriptor: unpickled in the worker, it is a new socket
with ``SO_REUSEPORT`` bound to that address; asyncio makes it listen when the worker's app is
ready (a worker still starting receives no connection). Everything else of the supervisor is
uvicorn's, unchanged: signals, graceful shutdown, health checks, a dead worker restarted (it
binds its own socket), SIGHUP, SIGTTIN/SIGTTOU.

The parent's own socket is bound but never listens (the kernel gives connections only to
listening sockets): it keeps the port while workers restart. Before binding it, the parent
binds the port once *without* ``SO_REUSEPORT``, so that a port another server listens on (a
second ``cmvcds serve`` too) still fails with "address already in use", as before.

Readiness (ADR 0033-cds23): each worker starts listening when its own app has started, one
after the other. A pool of keep-alive connections opened while only some workers listen stays on
those (seen in ``bench_cds.py``: wrk started when ``/api/v1/healthz`` first answered, its 8
connections all on worker 1, the other core idle for the whole run). So a worker's ``/readyz``
says "not ready" until every worker of the server listens (``workers_listening``, read from
Linux's ``/proc/net/tcp``), once; a worker restarted later does not take the server out again.
"""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path
from typing import Any

from uvicorn.config import STARTUP_FAILURE

__all__ = ["ReusePortListener", "bind_listener", "listening_sockets", "worker_socket",
           "workers_listening"]  # fmt: skip

logger = logging.getLogger("uvicorn.error")

#: In a worker of ``cmvcds serve --workers N``: its socket's family and address, and N (set
#: when the parent's listener is unpickled there; None in any other process).
_served: tuple[socket.AddressFamily, tuple[Any, ...], int] | None = None
#: Whether every worker was once seen listening (then it is not read again).
_all_seen = False


def _family(host: str) -> socket.AddressFamily:
    """IPv6 for an address with a colon, else IPv4 (uvicorn's own rule in ``bind_socket``)."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _reuse_port_socket(family: socket.AddressFamily, address: tuple[Any, ...]) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def worker_socket(
    family: socket.AddressFamily, address: tuple[Any, ...], workers: int = 1
) -> socket.socket:
    """In a worker (unpickling a ``ReusePortListener``): its own socket on ``address``, one of
    ``workers``. A bind that fails (the port taken meanwhile by another user) is a startup
    failure: the supervisor stops instead of restarting the worker forever."""
    global _served
    try:
        sock = _reuse_port_socket(family, address)
    except OSError as error:
        logger.error("worker cannot bind %s: %s", address, error)
        sys.exit(STARTUP_FAILURE)
    _served = (family, address, workers)
    return sock


def workers_listening() -> tuple[int, int] | None:
    """In a worker of ``cmvcds serve --workers N``: how many sockets listen on its address, and
    N; None in any other process, or where ``/proc/net`` cannot be read (no check made). Once
    all N were seen listening, ``(N, N)`` without reading again."""
    global _all_seen
    if _served is None:
        return None
    family, address, workers = _served
    if _all_seen:
        return workers, workers
    try:
        count = listening_sockets(family, address[0], address[1])
    except OSError:
        return None
    _all_seen = count >= workers
    return count, workers


def listening_sockets(family: socket.AddressFamily, host: str, port: int) -> int:
    """How many TCP sockets listen on ``host:port`` (Linux's ``/proc/net/tcp`` or ``tcp6``;
    ``OSError`` where it cannot be read). A socket bound to the port but not listening (the
    parent's) is not counted."""
    table = Path("/proc/net/tcp6" if family == socket.AF_INET6 else "/proc/net/tcp")
    wanted = socket.inet_pton(family, host)
    count = 0
    for line in table.read_text().splitlines()[1:]:
        fields = line.split()
        local, state = fields[1], fields[3]
        hex_address, _, hex_port = local.rpartition(":")
        if state == "0A" and int(hex_port, 16) == port and _packed(hex_address) == wanted:
            count += 1
    return count


def _packed(hex_address: str) -> bytes:
    """An address of ``/proc/net/tcp*``: 32-bit words printed in the host's byte order."""
    raw = bytes.fromhex(hex_address)
    if sys.byteorder == "big":
        return raw
    return b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))


class ReusePortListener(socket.socket):
    """The parent's socket: bound with ``SO_REUSEPORT``, never listening; passed to a worker it
    becomes that worker's own socket on the same address (``worker_socket``), one of
    ``workers``."""

    workers = 1

    def __reduce_ex__(self, protocol: object) -> tuple[Any, ...]:
        return worker_socket, (self.family, self.getsockname(), self.workers)


def bind_listener(host: str, port: int, workers: int = 1) -> ReusePortListener:
    """The parent's socket on ``host:port`` (0: a free port) for ``workers`` workers. The port
    must be free of listeners: one bind without ``SO_REUSEPORT`` checks it (uvicorn's message
    and exit code when it is not)."""
    family = _family(host)
    try:
        with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
            port = probe.getsockname()[1]
        held = _reuse_port_socket(family, (host, port))
    except OSError as error:
        logger.error(error)
        sys.exit(STARTUP_FAILURE)
    listener = ReusePortListener(held.family, held.type, held.proto, fileno=held.detach())
    listener.workers = workers
    return listener
