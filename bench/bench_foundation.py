"""Foundation figures (issue 2): knowledge pack load time (< 200 ms) and `cmvcds --help` (< 0.5 s).

Load time is measured cold in fresh interpreters (the cache would hide it in one process);
`--help` is the installed console script, as a user types it.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

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
    command = shutil.which("cmvcds") or "cmvcds"
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([command, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    load = cold_load_ms()
    help_ = help_seconds()
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


if __name__ == "__main__":
    main()
