"""Which process holds which TCP socket of a port, read from Linux's ``/proc``.

For ``cmvcds serve --workers N`` (tests/api/test_serve_workers.py, bench/bench_cds.py): how many
connections each worker holds, and which workers listen. A process's sockets are the
``socket:[inode]`` links of ``/proc/PID/fd``; ``/proc/net/tcp`` and ``tcp6`` give each socket's
local port, state and inode.
"""

from __future__ import annotations

import os
from pathlib import Path

LISTEN, ESTABLISHED = "0A", "01"


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets process ``pid`` has open."""
    found = set()
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # ended meanwhile
        return found
    for fd in descriptors:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(int(target[8:-1]))
    return found


def port_sockets(port: int, state: str) -> set[int]:
    """The inodes of the TCP sockets whose local port is ``port``, in ``state``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found.add(int(fields[9]))
    return found


def listening_workers(parent: int, port: int) -> dict[int, set[int]]:
    """Each child of ``parent`` that listens on ``port``: the inodes of its listening sockets."""
    listening = port_sockets(port, LISTEN)
    held = {pid: socket_inodes(pid) & listening for pid in children(parent)}
    return {pid: inodes for pid, inodes in held.items() if inodes}


def connections_per_worker(parent: int, port: int) -> dict[int, int]:
    """How many connections to ``port`` each listening child of ``parent`` holds."""
    connected = port_sockets(port, ESTABLISHED)
    return {pid: len(socket_inodes(pid) & connected) for pid in listening_workers(parent, port)}
