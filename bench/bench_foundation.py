"""Foundation figures (issue 2): knowledge pack load time (< 200 ms) and `cmvcds --help` (< 0.5 s);
cold `cmvcds assess examples/pregnancy.yaml` (issue 20, item 3: < 150 ms) as a ratio to
`python -c pass` measured interleaved in the same run (wall and CPU time of the child).

Load time is measured cold in fresh interpreters (the cache would hide it in one process);
`--help` is the installed console script, as a user types it.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 7


def cold_load_ms() -> list[tuple[float, float]]:
    """(import ms, load ms) per fresh interpreter: importing the library, then reading and
    validating every file of the pack and digesting it."""
    code = (
        "import time; t=time.perf_counter(); from cmvcds.knowledge import load_knowledge; "
        "u=time.perf_counter(); load_knowledge(); v=time.perf_counter(); "
        "print((u-t)*1000, (v-u)*1000)"
    )
    runs = []
    for _ in range(RUNS):
        imported, loaded = subprocess.check_output([sys.executable, "-c", code], text=True).split()
        runs.append((float(imported), float(loaded)))
    return runs


def help_seconds() -> list[float]:
    command = str(Path(sys.executable).parent / "cmvcds")
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([command, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pregnancy.yaml"


def _child(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, CPU ms) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall * 1000, cpu * 1000


def cold_assess_ms() -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Interleaved runs of `python -c pass` and `cmvcds assess`, after one warm-up run that
    writes the bytecode (as an installed wheel has it), the compiled knowledge pack cache and the
    command's code cache (`domain/code_cache.py`)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    assess = [str(Path(sys.executable).parent / "cmvcds"), "assess", str(EXAMPLE)]
    floor = [sys.executable, "-c", "pass"]
    _child(assess, env)
    passes, runs = [], []
    for _ in range(RUNS * 2):
        passes.append(_child(floor, env))
        runs.append(_child(assess, env))
    return passes, runs


def main() -> None:
    load = cold_load_ms()
    help_ = help_seconds()
    passes, runs = cold_assess_ms()
    loads = [loaded for _, loaded in load]
    imports = [imported for imported, _ in load]
    print(
        f"knowledge pack load (read + validate + SHA-256, cold process): median "
        f"{statistics.median(loads):.0f} ms, max {max(loads):.0f} ms over {RUNS} runs (target < 200 ms)"
    )
    print(
        f"  library import before it (pydantic, yaml, cmvcds): median {statistics.median(imports):.0f} ms"
    )
    print(
        f"cmvcds --help: median {statistics.median(help_):.2f} s, max {max(help_):.2f} s "
        f"over {RUNS} runs (target < 0.5 s)"
    )
    for label, index in (("wall", 0), ("CPU", 1)):
        floor = statistics.median(p[index] for p in passes)
        cold = statistics.median(r[index] for r in runs)
        print(
            f"cold `cmvcds assess examples/pregnancy.yaml` ({label}): median {cold:.0f} ms = "
            f"{cold / floor:.1f}x `python -c pass` ({floor:.0f} ms) over {len(runs)} interleaved runs "
            "(target < 150 ms)"
        )


if __name__ == "__main__":
    main()
