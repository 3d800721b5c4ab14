"""A CDS Hooks call's CPU in process: ``cmvcds serve``'s app called directly (ASGI, no socket).

The app as a worker builds it (``served_app``: start-up objects frozen), JWT off, on a
temporary SQLite database; each call a new patient (``tools/cds_requests.py``), one at a time,
so each call commits its own cards. Prints the CPU per call (``process_time``, this process's
threads: the commit thread too); ``--profile FILE`` writes a cProfile of the measured calls;
under ``valgrind --tool=callgrind --dump-before=sync --collect-atstart=yes`` the measured calls
lie between two ``os.sync()`` marks (issue 20 item 5; ADR 0032-cds22).

    .venv/bin/python bench/cds_inprocess.py [--warmup 40] [--calls 200] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from cds_requests import generate  # noqa: E402

PATH = "/cds-services/cmv-pregnancy-valacyclovir"


async def call(app: Any, body: bytes) -> bytes:
    """One POST through the whole ASGI app (middleware, routing, the route); its body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    parts: list[bytes] = []
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    answer = b"".join(parts)
    if status != 200 or b'"cards":[{' not in answer:
        raise SystemExit(f"status {status}: {answer[:300]!r}")
    return answer


async def run(args: argparse.Namespace) -> None:
    from cmvcds.adapters.api.app import served_app

    app = served_app()
    bodies = [json.dumps(r).encode() for r in generate(args.warmup + args.calls)]
    async with app.router.lifespan_context(app):
        for body in bodies[: args.warmup]:
            await call(app, body)
        profile = None
        if args.profile:
            import cProfile

            profile = cProfile.Profile(time.thread_time)  # this thread's CPU, not wall time
        os.sync()  # callgrind mark: measured calls start
        started = time.process_time()
        started_main = time.thread_time()
        if profile:
            profile.enable()
        for body in bodies[args.warmup :]:
            await call(app, body)
        if profile:
            profile.disable()
        used = time.process_time() - started
        used_main = time.thread_time() - started_main
        os.sync()  # callgrind mark: measured calls end
    if profile:
        profile.dump_stats(args.profile)
    print(
        f"cds_inprocess: {args.calls} calls of new patients, {used / args.calls * 1000:.2f} ms "
        f"CPU a call, of which the event loop's thread {used_main / args.calls * 1000:.2f} ms "
        "(the rest: the commit threads)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--profile", help="write a cProfile of the measured calls to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CMVCDS_DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        os.environ["CMVCDS_DEMO_CASES"] = "false"
        os.environ["CMVCDS_CDS_INSECURE_NO_JWT"] = "true"
        try:
            import uvloop

            uvloop.run(run(args))
        except ImportError:
            asyncio.run(run(args))


if __name__ == "__main__":
    main()
