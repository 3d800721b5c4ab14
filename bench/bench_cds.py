"""Load test of ``POST /cds-services/cmv-pregnancy-valacyclovir`` from a second process.

Starts ``cmvcds serve`` on a free loopback port in a child process,
then sends the golden pregnancy request from this process with a fixed concurrency, bounded in
count and time. Prints requests/s and latency percentiles (issue 20 target: ≥ 1,000 requests/s,
p99 < 50 ms on a 2-core machine with ``--workers 2``). The floor is ``GET /api/v1/healthz`` on the
same server, same client and concurrency, measured in the same run just before: the ratios
(throughput and p99 against it) hold on a busy machine, the absolute figures do not. The server's
own CPU time per request (its processes' user + system time, from ``/proc``) is printed too: on a
machine shared with other work it is the steadiest figure of what a request costs. With
``--workers`` > 1, the workers' shares of that CPU during the CDS calls, and the client's
connections per worker (sampled 1 s in, ``tools/proc_sockets.py``), show whether the kernel
spread the pool over the workers (ADR 0032-cds22: uvicorn's one shared socket let the worker
that woke first take all 8 connections, the other core idle). The load starts once ``/readyz``
answers and every worker listens (``wait_listening``; ADR 0033-cds23: started when the first
worker answered, all 8 connections stayed on it).

Each call carries a patient of its own (``--patients 1000``, the default: the golden request
varied by ``tools/cds_requests.py``, new ids, dates moved back, values scaled), as an EHR's calls
do when clinicians open different charts; the server caches work by content (the FHIR
validation of a resource), so one request sent again and again measured those caches, not a new
patient (``--patients 1``: the golden request every time, the figures before 2026-12-07 19:40).
The bodies are sent in turn; past ``N`` calls a patient comes again.

The load generator is ``wrk`` (compiled; Debian package ``wrk``) when it is on the PATH, else a
minimal asyncio client of this process: on a 2-core machine the Python client takes ~0.2 ms of
CPU per request from the cores the server runs on, wrk a fraction of that. Both floor and service
are measured with the same client; the report names it.

    .venv/bin/python bench/bench_cds.py [--client auto|wrk|python] [--seconds 10]
        [--requests 4000] [--concurrency 8] [--workers 2] [--patients 1000] [--server-log FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[1]
REQUEST = ROOT / "tests" / "cdshooks" / "fixtures" / "pregnancy-valacyclovir.request.json"
sys.path.insert(0, str(ROOT / "tools"))
from cds_requests import generate  # noqa: E402
from proc_sockets import connections_per_worker, listening_workers  # noqa: E402

PATH = "/cds-services/cmv-pregnancy-valacyclovir"
ISSUER = "https://bench.invalid"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(
    port: int, workers: int, folder: str, log: IO[bytes], jwks: Path | None = None
) -> subprocess.Popen[bytes]:
    """``cmvcds serve`` on ``port``: with ``jwks``, JWT verification on (the default of a
    deployment: each call's signed token verified and its ``jti`` claimed in the database), the
    bench's issuer trusted with that JWKS file; without, ``--insecure-no-jwt``. Its output (a JSON
    access line per request) goes to ``log``, not to the terminal: a terminal drawing thousands
    of lines a second slows the server and buries the report."""
    env = os.environ | {
        "CMVCDS_DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
        "CMVCDS_DEMO_CASES": "false",
    }
    cmvcds = str(Path(sys.executable).parent / "cmvcds")
    command = [cmvcds, "serve", "--port", str(port), "--workers", str(workers), "--no-demo"]
    if jwks is None:
        command.append("--insecure-no-jwt")
    else:
        env["CMVCDS_CDS_TRUSTED_ISSUERS"] = json.dumps({ISSUER: str(jwks)})
    return subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=log)


def signed_tokens(folder: str, audience: str, count: int) -> tuple[Path, list[str]]:
    """A JWKS file of a new ES384 key (as the CDS Hooks sandbox signs) and ``count`` tokens for
    ``audience``, each with its own ``jti`` (a replayed one is refused)."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "bench", "alg": "ES384", "use": "sig"})
    jwks = Path(folder) / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "bench", "aud": audience, "iat": now, "exp": now + 600}
    tokens = [
        jwt.encode(
            {**claims, "jti": f"bench-{i}"}, key, algorithm="ES384", headers={"kid": "bench"}
        )
        for i in range(count)
    ]
    return jwks, tokens


def _process_times() -> tuple[dict[int, int], dict[int, float]]:
    """Every process's parent and user + system CPU seconds (Linux ``/proc``)."""
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
    return parents, times


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its descendants (Linux ``/proc``)."""
    parents, times = _process_times()
    tree, grew = {pid}, True
    while grew:
        found = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return sum(times.get(p, 0.0) for p in tree)


def children_cpu_s(pid: int) -> dict[int, float]:
    """CPU seconds of each child of ``pid`` (the server's workers, and multiprocessing's
    resource tracker, which takes none)."""
    parents, times = _process_times()
    return {child: times[child] for child, parent in parents.items() if parent == pid}


def worker_shares(before: dict[int, float], after: dict[int, float]) -> list[float]:
    """Each worker's share of the workers' CPU between two ``children_cpu_s``, largest first
    (1/N each when the kernel spreads the connections evenly; one near 1.0: one worker did all
    the work while the others idled)."""
    used = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    total = sum(used.values()) or 1.0
    return sorted((u / total for u in used.values() if u > 0), reverse=True)


async def wait_ready(base: str, limit_s: float = 120) -> None:
    """Until ``/readyz`` answers 200 (with ``--workers N``, from this branch on, only once
    every worker listens: ADR 0033-cds23)."""
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the server did not start")


def wait_listening(pid: int, port: int, workers: int, limit_s: float = 120) -> None:
    """Until ``workers`` children of the server listen on ``port`` (read from ``/proc``; with
    one worker the server itself listens and answering is enough). The load's keep-alive
    connections are opened at once and kept: opened while one worker still started, they all
    went to the other (2026-12-08 01:21, 8/0, one core idle), whatever ``serve`` reports. Read
    here too, so that a base without ``/readyz``'s check is measured the same way."""
    if workers <= 1:
        return
    deadline = time.monotonic() + limit_s
    while len(listening_workers(pid, port)) < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"not {workers} workers listening on port {port}")
        time.sleep(0.1)


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
    body: bytes | Sequence[bytes] | None,
    total: int,
    concurrency: int,
    limit_s: float,
    path: str = PATH,
    expect: bytes = b'"cards":[{',
) -> tuple[list[float], int, float]:
    """``concurrency`` keep-alive connections, each sending the next request when the last is
    answered (a closed loop), until ``total`` requests or ``limit_s`` seconds. A minimal client
    on raw sockets, so that the load generator takes little of the machine's two cores. A POST
    of ``body`` (of each body in turn, when several), or a GET when it is None."""
    if body is None:
        requests = [f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()]
    else:
        requests = [
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(one)}\r\n\r\n"
            ).encode()
            + one
            for one in ([body] if isinstance(body, bytes) else body)
        ]
    latencies: list[float] = []
    errors = 0
    sent = 0
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(concurrency)]
    for reader, writer in connections:  # warm-up, not counted
        for i in range(5):
            await _post(reader, writer, requests[i % len(requests)])
    start = time.perf_counter()
    stop_at = start + limit_s

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent, errors
        while sent < total and time.perf_counter() < stop_at:
            request = requests[sent % len(requests)]
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


#: wrk's script: the request, and a count of answers that are not a 200 with a card (wrk counts
#: only non-2xx itself). ``done`` prints one line bench_cds reads back.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) errors = 0 end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, EXPECT, 1, true) then errors = errors + 1 end
end
function done(summary, latency, requests)
  local errors = 0
  for _, thread in ipairs(threads) do errors = errors + thread:get("errors") end
  io.write(string.format("bench_cds: %d %d %.3f %.3f %.3f\\n", summary.requests, errors,
    summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
"""

#: ``request`` sends the next body of ``BODIES`` in turn (one patient each; ``nil``: wrk.body)
#: and, with ``--jwt``, the next token of ``TOKENS`` (one per request, never reused).
WRK_REQUEST = """
local sent = 0
function request()
  sent = sent + 1
  if TOKENS then wrk.headers["Authorization"] = "Bearer " .. TOKENS[sent] end
  if BODIES then return wrk.format(nil, nil, nil, BODIES[(sent - 1) % #BODIES + 1]) end
  return wrk.format()
end
"""


def wrk_load(
    port: int,
    body: bytes | Sequence[bytes] | None,
    concurrency: int,
    seconds: float,
    path: str,
    expect: bytes,
    tokens: Sequence[str] = (),
) -> tuple[int, int, float, float, float, float]:
    """One wrk run (1 thread, ``concurrency`` keep-alive connections, closed loop, ``seconds``):
    requests, errors, elapsed s, p50 ms, p99 ms, wrk's own CPU s. wrk times its requests with
    microsecond resolution (its HdrHistogram); its percentiles are read from ``done``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(f"EXPECT = {json.dumps(expect.decode())}\n")
        bodies = [body] if isinstance(body, bytes) else body
        if bodies is not None:
            script.write(
                f'wrk.method = "POST"\nwrk.body = {_lua_string(bodies[0])}\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
            )
        if bodies is not None and len(bodies) > 1:  # a patient per request, in turn
            script.write(f"BODIES = {{{','.join(_lua_string(b) for b in bodies)}}}\n")
        if tokens:  # each request its own signed token, in turn
            script.write(f"TOKENS = {{{','.join(json.dumps(t) for t in tokens)}}}\n")
        if tokens or (bodies is not None and len(bodies) > 1):
            script.write(WRK_REQUEST)
        script.write(WRK_SCRIPT)
        script.flush()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [
                *("wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "-s", script.name),
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = re.search(r"bench_cds: (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", done.stdout)
    if found is None:
        raise SystemExit(f"wrk did not report:\n{done.stdout}{done.stderr}")
    count, errors = int(found[1]), int(found[2])
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return count, errors, float(found[3]), float(found[4]), float(found[5]), cpu


def _lua_string(data: bytes) -> str:
    """``data`` as a Lua long string (no escapes inside one)."""
    level = 0
    while f"]{'=' * level}]".encode() in data:
        level += 1
    return f"[{'=' * level}[{data.decode()}]{'=' * level}]"


@dataclass(frozen=True)
class Run:
    """One measured run: answers, errors, seconds, p50 and p99 in ms, the client's CPU s."""

    count: int
    errors: int
    elapsed_s: float
    p50_ms: float
    p99_ms: float
    client_cpu_s: float


def python_load(
    port: int,
    body: bytes | Sequence[bytes] | None,
    args: argparse.Namespace,
    path: str,
    expect: bytes,
) -> Run:
    """``load`` by this process's asyncio client, as a ``Run``."""
    started = time.process_time()
    latencies, errors, elapsed = asyncio.run(
        load(port, body, args.requests, args.concurrency, args.seconds, path, expect)
    )
    cpu = time.process_time() - started
    latencies.sort()
    count = len(latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(count - 1, int(count * 0.99))] * 1000
    return Run(count, errors, elapsed, p50, p99, cpu)


def measure(
    client: str,
    port: int,
    body: bytes | Sequence[bytes] | None,
    args: argparse.Namespace,
    path: str,
    expect: bytes,
    tokens: Sequence[str] = (),
) -> Run:
    if client == "wrk":
        return Run(*wrk_load(port, body, args.concurrency, args.seconds, path, expect, tokens))
    return python_load(port, body, args, path, expect)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator (auto: wrk when on the PATH, else this process's asyncio client)",
    )
    parser.add_argument(
        "--requests", type=int, default=4000, help="most requests per run (python client)"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--jwt",
        action="store_true",
        help="JWT verification on, as deployed: a signed token per call (wrk only)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--patients",
        type=int,
        default=1000,
        help="calls of different patients sent in turn (tools/cds_requests.py); 1: the golden "
        "request every time (what the server's caches answer)",
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="length (wrk) or time limit of each run"
    )
    parser.add_argument(
        "--server-log", help="keep the server's output (JSON lines) in this file (default: dropped)"
    )
    args = parser.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    if args.jwt and client != "wrk":
        raise SystemExit("--jwt needs wrk (a signed token per request)")
    bodies = (
        [json.dumps(json.loads(REQUEST.read_text())).encode()]
        if args.patients <= 1
        else [json.dumps(r).encode() for r in generate(args.patients)]
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        jwks: Path | None = None
        tokens: list[str] = []
        if args.jwt:  # more tokens than a run can send: 2,000 calls/s
            jwks, tokens = signed_tokens(folder, f"{base}{PATH}", int(2000 * args.seconds))
        log_path = Path(args.server_log or Path(folder) / "server.log")
        with log_path.open("wb") as log:
            server = start_server(port, args.workers, folder, log, jwks)
            try:
                asyncio.run(wait_ready(base))
                wait_listening(server.pid, port, args.workers)
                before = tree_cpu_s(server.pid)
                floor = measure(client, port, None, args, "/api/v1/healthz", b"ok")
                between = tree_cpu_s(server.pid)
                workers_before = children_cpu_s(server.pid)
                pools: list[dict[int, int]] = []  # the client's connections per worker, 1 s in
                sample = threading.Timer(
                    1.0, lambda: pools.append(connections_per_worker(server.pid, port))
                )
                sample.start()
                service = measure(client, port, bodies, args, PATH, b'"cards":[{', tokens)
                sample.cancel()
                after = tree_cpu_s(server.pid)
                shares = worker_shares(workers_before, children_cpu_s(server.pid))
            finally:
                server.terminate()
                server.wait(10)
        access = len(re.findall(rb'"logger": ?"cmvcds.access"', log_path.read_bytes()))
    print(
        f"bench_cds: client {client}, JWT {'on' if args.jwt else 'off'}, server workers "
        f"{args.workers}, client concurrency "
        f"{args.concurrency}, patients {args.patients}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    floor_rate = _report("GET /api/v1/healthz (floor)", floor)
    rate = _report(f"POST {PATH}", service)
    floor_cpu = (between - before) / floor.count * 1000
    cpu = (after - between) / service.count * 1000
    floor_client = floor.client_cpu_s / floor.count * 1000
    client_cpu = service.client_cpu_s / service.count * 1000
    print(
        f"server CPU per request (all its processes): floor {floor_cpu:.2f} ms, "
        f"service {cpu:.2f} ms ({cpu / floor_cpu:.1f}x); the client's ({client}): "
        f"{floor_client:.2f} and {client_cpu:.2f} ms"
    )
    if args.workers > 1:
        held = sorted(pools[0].values(), reverse=True) if pools else []
        print(
            "the workers' shares of their CPU during the CDS calls: "
            + " / ".join(f"{share:.0%}" for share in shares)
            + "; the client's connections per worker: "
            + (" / ".join(map(str, held)) or "not sampled")
        )
    cores = os.cpu_count() or 1
    print(
        f"CPU-bound projection on {cores} idle cores (server + client CPU per request): floor "
        f"{cores * 1000 / (floor_cpu + floor_client):,.0f}, service "
        f"{cores * 1000 / (cpu + client_cpu):,.0f} requests/s"
    )
    print(
        f"ratio to the floor: throughput {rate / floor_rate:.2f}x, "
        f"p99 {service.p99_ms / floor.p99_ms:.1f}x; target 1,000 requests/s and p99 < 50 ms: "
        f"{'met' if rate >= 1000 and service.p99_ms < 50 else 'not met'} in this run"
    )
    print(f"server log: {access:,} access lines ({args.server_log or 'a temporary file'})")
    if floor.errors or service.errors:
        raise SystemExit(1)


def _report(label: str, run: Run) -> float:
    """Print one run; its requests/s."""
    rate = run.count / run.elapsed_s
    print(
        f"  {label}: {run.count} requests in {run.elapsed_s:.1f} s, {rate:,.0f} requests/s, "
        f"p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms, errors {run.errors}"
    )
    return rate


if __name__ == "__main__":
    main()
