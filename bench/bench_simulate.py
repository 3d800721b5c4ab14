"""Screening simulation (issue 21): pregnancies/s through the full engine, against a floor.

    .venv/bin/python bench/bench_simulate.py [--n 20000] [--workers 2] [--skip-dask]

A "pregnancy" here is one simulated woman under one strategy (the four strategies, so ``--n``
women make 4 × n pregnancies), each visit answered by ``assess()`` through the pattern memo
(``simulation/clinic.py``). The **floor** is the bookkeeping every pregnancy needs whatever the
engine does: drawing the cohort (numpy) and building each woman's record in Python, measured in
the same run. Runs: one core; ``--workers`` processes (``multiprocessing``); a local Dask cluster
of ``--workers`` processes (start-up included, as a user meets it); and, to show what the memo
buys, one core with the memo off (every visit parsed and assessed) on a small cohort.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cmvcds.knowledge import load_knowledge
from cmvcds.simulation import simulate
from cmvcds.simulation.clinic import Clinic, Verdict
from cmvcds.simulation.cohort import DRAWS, make_cohort, onset_days
from cmvcds.simulation.course import Woman, follow
from cmvcds.simulation.parameters import base_inputs
from cmvcds.simulation.strategies import STRATEGIES

ALL = ("no-screening", "first-trimester", "repeated", "hygiene")


def floor(n: int) -> float:
    """Pregnancies/s of the bookkeeping alone."""
    inputs = base_inputs(load_knowledge())
    start = time.perf_counter()
    cohort = make_cohort(n, inputs, np.random.default_rng(1))
    for strategy in ALL:
        onsets = onset_days(cohort, inputs, STRATEGIES[strategy].counselling)
        for i in range(n):
            Woman(bool(cohort.seropositive[i]), float(onsets[i]), int(cohort.booking_week[i]),
                  dict(zip(DRAWS, cohort.draws[i].tolist(), strict=True)))  # fmt: skip
    return 4 * n / (time.perf_counter() - start)


class Unmemoised(Clinic):
    """Every visit parsed and assessed, as without the memo."""

    def see(self, day, observations, scans=(), treated_from=None) -> Verdict:  # type: ignore[no-untyped-def]
        self.calls += 1
        return self._assess(day, observations, scans, treated_from)


def memo_off(n: int) -> float:
    knowledge = load_knowledge()
    inputs = base_inputs(knowledge)
    cohort = make_cohort(n, inputs, np.random.default_rng(2))
    clinic = Unmemoised(knowledge)
    strategy = STRATEGIES["first-trimester"]
    onsets = onset_days(cohort, inputs, False)
    start = time.perf_counter()
    for i in range(n):
        woman = Woman(bool(cohort.seropositive[i]), float(onsets[i]), int(cohort.booking_week[i]),
                      dict(zip(DRAWS, cohort.draws[i].tolist(), strict=True)))  # fmt: skip
        follow(woman, strategy, inputs, clinic)
    return n / (time.perf_counter() - start)


def timed(label: str, n: int, **options: object) -> tuple[str, float]:
    start = time.perf_counter()
    simulate(strategies=ALL, n=n, seed=1, **options)  # type: ignore[arg-type]
    return label, 4 * n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()
    load_knowledge()
    simulate(strategies=ALL, n=2000, seed=99)  # warm-up: the memo of this process
    base = floor(args.n)
    runs = [timed("one core", args.n), timed(f"{args.workers} processes", args.n, workers=args.workers)]
    if not args.skip_dask:
        runs.append(timed(f"local Dask, {args.workers} workers", args.n, workers=args.workers, scheduler="local"))
    runs.append(("one core, memo off (first-trimester only)", memo_off(300)))
    print(f"floor (cohort + records): {base:,.0f} pregnancies/s")
    print("| run | pregnancies/s | × floor |")
    print("|---|---:|---:|")
    for label, rate in runs:
        print(f"| {label} | {rate:,.0f} | {rate / base:.3f} |")


if __name__ == "__main__":
    main()
