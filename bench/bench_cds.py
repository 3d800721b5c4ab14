"""Load test of ``POST /cds-services/cmv-pregnancy-valacyclovir`` from a second process.

Starts ``cmvcds serve`` on a free loopback port in a child process,
then sends the golden pregnancy request from this process with a fixed concurrency, bounded in
count and time. Prints requests/s and latency percentiles (issue 20 target: ≥ 1,000 requests/s,
p99 < 50 ms on a 2-core machine with ``--workers 2``). The floor is ``GET /api/v1/healthz`` on the
same server, same client and concurrency, measured in the same run just before: the ratios
(throughput and p99 against it) hold on a busy machine, the absolute figures do not. The server's
own CPU time per request (its processes' user + system time, from ``/proc``) is printed too: on a
machine shared with other work it is the steadiest figure of what a request costs.

    .venv/bin/python bench/bench_cds.py [--requests 4000] [--concurrency 16] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
REQUEST = ROOT / "tests" / "cdshooks" / "fixtures" / "pregnancy-valacyclovir.request.json"
PATH = "/cds-services/cmv-pregnancy-valacyclovir"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(port: int, workers: int, folder: str) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "CMVCDS_DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
        "CMVCDS_DEMO_CASES": "false",
    }
    cmvcds = str(Path(sys.executable).parent / "cmvcds")
    # the services' own time, without JWT verification (a signed token per request, verified and
    # claimed in the database, is the deployment's cost on top: not measured here)
    command = [
        *(cmvcds, "serve", "--port", str(port), "--workers", str(workers), "--no-demo"),
        "--insecure-no-jwt",
    ]
    return subprocess.Popen(command, env=env, cwd=folder)


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its descendants (Linux ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, grew = {pid}, True
    while grew:
        found = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return sum(times.get(p, 0.0) for p in tree)


async def wait_ready(base: str, limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{base}/api/v1/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the server did not start")


async def _post(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """One HTTP/1.1 keep-alive POST on an open connection: status and body."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, await reader.readexactly(length)


async def load(
    port: int,
    body: bytes | None,
    total: int,
    concurrency: int,
    limit_s: float,
    path: str = PATH,
    expect: bytes = b'"cards":[{',
) -> tuple[list[float], int, float]:
    """``concurrency`` keep-alive connections, each sending the next request when the last is
    answered (a closed loop), until ``total`` requests or ``limit_s`` seconds. A minimal client
    on raw sockets, so that the load generator takes little of the machine's two cores. A POST
    of ``body``, or a GET when it is None."""
    if body is None:
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    else:
        request = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
    latencies: list[float] = []
    errors = 0
    sent = 0
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(concurrency)]
    for reader, writer in connections:  # warm-up, not counted
        for _ in range(5):
            await _post(reader, writer, request)
    start = time.perf_counter()
    stop_at = start + limit_s

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent, errors
        while sent < total and time.perf_counter() < stop_at:
            sent += 1
            t0 = time.perf_counter()
            status, answer = await _post(reader, writer, request)
            latencies.append(time.perf_counter() - t0)
            if status != 200 or expect not in answer:
                errors += 1

    await asyncio.gather(*(worker(r, w) for r, w in connections))
    elapsed = time.perf_counter() - start
    for _, writer in connections:
        writer.close()
    return latencies, errors, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="time limit of the measured run"
    )
    args = parser.parse_args()
    body = json.dumps(json.loads(REQUEST.read_text())).encode()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        server = start_server(port, args.workers, folder)
        try:
            asyncio.run(wait_ready(base))
            before, client_before = tree_cpu_s(server.pid), time.process_time()
            floor = asyncio.run(
                load(
                    port,
                    None,
                    args.requests,
                    args.concurrency,
                    args.seconds,
                    path="/api/v1/healthz",
                    expect=b"ok",
                )
            )
            between, client_between = tree_cpu_s(server.pid), time.process_time()
            service = asyncio.run(load(port, body, args.requests, args.concurrency, args.seconds))
            after, client_after = tree_cpu_s(server.pid), time.process_time()
        finally:
            server.terminate()
            server.wait(10)
    print(
        f"bench_cds: server workers {args.workers}, client concurrency {args.concurrency}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    floor_rate, floor_p99 = _report("GET /api/v1/healthz (floor)", *floor)
    rate, p99 = _report(f"POST {PATH}", *service)
    floor_cpu = (between - before) / len(floor[0]) * 1000
    cpu = (after - between) / len(service[0]) * 1000
    floor_client = (client_between - client_before) / len(floor[0]) * 1000
    client = (client_after - client_between) / len(service[0]) * 1000
    print(
        f"server CPU per request (all its processes): floor {floor_cpu:.2f} ms, "
        f"service {cpu:.2f} ms ({cpu / floor_cpu:.1f}x); this client's: {floor_client:.2f} and "
        f"{client:.2f} ms"
    )
    cores = os.cpu_count() or 1
    print(
        f"CPU-bound projection on {cores} idle cores (server + client CPU per request): floor "
        f"{cores * 1000 / (floor_cpu + floor_client):,.0f}, service "
        f"{cores * 1000 / (cpu + client):,.0f} requests/s"
    )
    print(
        f"ratio to the floor: throughput {rate / floor_rate:.2f}x, p99 {p99 / floor_p99:.1f}x; "
        f"target 1,000 requests/s and p99 < 50 ms: "
        f"{'met' if rate >= 1000 and p99 < 50 else 'not met'} in this run"
    )
    if floor[1] or service[1]:
        raise SystemExit(1)


def _report(label: str, latencies: list[float], errors: int, elapsed: float) -> tuple[float, float]:
    """Print one run; its requests/s and p99 in ms."""
    latencies.sort()
    count = len(latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(count - 1, int(count * 0.99))] * 1000
    rate = count / elapsed
    print(
        f"  {label}: {count} requests in {elapsed:.1f} s, {rate:,.0f} requests/s, "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors {errors}"
    )
    return rate, p99


if __name__ == "__main__":
    main()
