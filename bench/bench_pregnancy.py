"""Pregnancy pathway figures (issue 3): time per assessment of the example cases, after warm-up.

The issue names no target; the figure tells whether the pathway can sit behind an interactive
page or a CDS Hooks call (a budget of a few milliseconds per assessment).
"""

from __future__ import annotations

import statistics
import time
from datetime import date
from pathlib import Path

import yaml

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.knowledge import load_knowledge

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("pregnancy*.yaml"))
RUNS = 2000


def main() -> None:
    knowledge = load_knowledge()
    cases = [
        parse_case(
            yaml.safe_load(p.read_text(encoding="utf-8")), knowledge, today=date(2026, 11, 21)
        )
        for p in EXAMPLES
    ]
    for case in cases:  # warm-up
        assess(case, knowledge)
    per_call = []
    for i in range(RUNS):
        case = cases[i % len(cases)]
        start = time.perf_counter()
        assess(case, knowledge)
        per_call.append((time.perf_counter() - start) * 1e6)
    per_call.sort()
    print(f"pregnancy assess(): {RUNS} calls over {len(cases)} example cases")
    print(
        f"mean {statistics.fmean(per_call):.0f} µs, median {statistics.median(per_call):.0f} µs, "
        f"p95 {per_call[int(0.95 * RUNS)]:.0f} µs per assessment (parsing excluded)"
    )


if __name__ == "__main__":
    main()
