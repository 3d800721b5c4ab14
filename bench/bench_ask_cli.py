"""`cmvcds ask` as a user runs it (issue 20, item 4): first question after install, then later ones.

    .venv/bin/python bench/bench_ask_cli.py [--runs 5]

Each run is a fresh `cmvcds ask` process; its CPU time (user + system, from the child's rusage,
so that a loaded machine's waiting does not count) is compared with `python -c pass` measured in
the same run. "First after install" runs with an empty `$CMVCDS_CACHE_DIR` (no knowledge cache, no
vector cache: what a fresh install has, with the package's prebuilt vectors); "later" runs reuse
the cache the first run wrote. Targets (issue 20): first < 2 s, later < 300 ms.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

QUESTION = "Valganciclovir dose after kidney transplant with CrCl 35"
CMVCDS = Path(sys.executable).with_name("cmvcds")


def cpu_of(command: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) of one child process running ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    floor = statistics.median(
        cpu_of([sys.executable, "-c", "pass"], dict(os.environ)) for _ in range(args.runs)
    )
    first: list[float] = []
    later: list[float] = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "CMVCDS_CACHE_DIR": cache}
            env.pop("CMVCDS_DATABASE_URL", None)
            first.append(cpu_of([str(CMVCDS), "ask", QUESTION], env))
            later.append(cpu_of([str(CMVCDS), "ask", QUESTION], env))
    rows = [("python -c pass (floor)", floor), ("first ask after install", statistics.median(first))]
    rows.append(("later ask", statistics.median(later)))
    for name, seconds in rows:
        print(f"{name:>26}: {seconds * 1000:7.0f} ms CPU  ({seconds / floor:5.1f}× the floor)")


if __name__ == "__main__":
    main()
