"""``simulate()``: the base case, the PSA, the CEAC and the tornado, on one core, several
processes (``workers``) or a Dask cluster (``scheduler``: an address, or ``"local"``).

Work is cut into chunks of ``CHUNK`` women, each with its own seed derived from the run's seed
and the chunk's place (``numpy.random.SeedSequence``), so a result depends on the seed only, never
on the number of workers or where a chunk ran.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge, load_knowledge
from cmvcds.simulation.clinic import Clinic
from cmvcds.simulation.cohort import DRAWS, make_cohort, onset_days
from cmvcds.simulation.course import Course, Woman, follow
from cmvcds.simulation.parameters import base_inputs, check_values, draw_inputs, override, varied
from cmvcds.simulation.strategies import Strategy, strategies_named
from cmvcds.simulation.tally import add, cost, merge, qaly_loss, summarise

__all__ = ["CHUNK", "MAX_DRAWS", "MAX_PREGNANCIES", "MAX_TOTAL", "Progress", "SimulationResult", "run_cohort", "simulate"]

CHUNK = 10_000
#: Largest cohort (``n``, ``psa_n``, ``tornado_n``): about five years of Italian births, which one
#: machine runs; the web page allows less (``adapters/web/simulate_page.LIMITS``).
MAX_PREGNANCIES = 5_000_000
#: Largest number of PSA draws.
MAX_DRAWS = 10_000
#: Largest number of simulated pregnancies in one run (base case, PSA and tornado together): the
#: issue's region-scale PSA (400,000 births × 1,000 draws) fits; every chunk is a task held in
#: memory, so an unbounded request would grow memory without end.
MAX_TOTAL = 500_000_000
#: Called with (chunks done, chunks in all) as work completes.
Progress = Callable[[int, int], None]
CONNECT_TIMEOUT_S = 5
WTP_GRID = tuple(range(0, 150_001, 5_000))
T = TypeVar("T")
R = TypeVar("R")

_CLINICS: dict[str, Clinic] = {}


def _clinic(knowledge: Knowledge) -> Clinic:
    """This process's memo of engine verdicts for the pack (shared by every chunk it runs)."""
    return _CLINICS.setdefault(knowledge.sha256, Clinic(knowledge))


@dataclass(frozen=True)
class Task:
    """A chunk: ``n`` women under ``inputs``, seeded by ``seed`` and ``key``."""

    inputs: Mapping[str, float]
    strategies: tuple[Strategy, ...]
    n: int
    seed: int
    key: tuple[int, ...]


def run_cohort(task: Task, knowledge: Knowledge | None = None) -> dict[str, dict[str, int]]:
    """Simulate one chunk; per-strategy totals of every count."""
    knowledge = knowledge or load_knowledge()
    clinic = _clinic(knowledge)
    rng = np.random.default_rng(np.random.SeedSequence(task.seed, spawn_key=task.key))
    cohort = make_cohort(task.n, task.inputs, rng)
    totals: dict[str, dict[str, int]] = {}
    for strategy in task.strategies:
        onsets = onset_days(cohort, task.inputs, strategy.counselling)
        total: dict[str, int] = {}
        for i in range(task.n):
            woman = Woman(
                bool(cohort.seropositive[i]),
                float(onsets[i]),
                int(cohort.booking_week[i]),
                dict(zip(DRAWS, cohort.draws[i].tolist(), strict=True)),
            )
            add(total, follow(woman, strategy, task.inputs, clinic))
        totals[strategy.name] = total or {k: 0 for k in Course.__dataclass_fields__}
    return totals


@dataclass
class SimulationResult:
    """Everything ``cmvcds simulate`` reports (``to_dict()`` is its JSON)."""

    seed: int
    n: int
    strategies: tuple[Strategy, ...]
    inputs: dict[str, float]
    base: dict[str, dict[str, float | None]]
    psa: list[dict[str, dict[str, float]]] = field(default_factory=list)
    ceac: dict[str, list[float]] = field(default_factory=dict)
    tornado: list[dict[str, Any]] = field(default_factory=list)
    wtp: float = 40_000.0
    knowledge: dict[str, str] = field(default_factory=dict)
    population: str | None = None  # the simulation_seroprevalence row used, if not the default

    def to_dict(self) -> dict[str, Any]:
        """The ``cmvcds-simulation/1`` JSON document."""
        return {
            "format": "cmvcds-simulation/1",
            "knowledge": self.knowledge,
            "seed": self.seed,
            "population": self.population,
            "pregnancies": self.n,
            "per": 100_000,
            "reference": self.strategies[0].name,
            "strategies": [{"name": s.name, "label": s.label, "repeat_weeks": list(s.repeat_weeks)} for s in self.strategies],
            "inputs": self.inputs,
            "results": self.base,
            "psa": {"draws": len(self.psa), "per_pregnancy": self.psa},
            "ceac": {"wtp_eur_per_qaly": list(WTP_GRID), "probability": self.ceac},
            "tornado": {"wtp_eur_per_qaly": self.wtp, "bars": self.tornado},
        }


def simulate(
    strategies: Sequence[str] = ("no-screening", "first-trimester", "repeated", "hygiene"),
    n: int = 100_000,
    seed: int = 1,
    psa_draws: int = 0,
    psa_n: int = 10_000,
    tornado: bool = False,
    tornado_n: int = 10_000,
    wtp: float = 40_000.0,
    workers: int = 1,
    scheduler: str | None = None,
    inputs: Mapping[str, float] | None = None,
    repeat_weeks: tuple[int, ...] | None = None,
    knowledge: Knowledge | None = None,
    progress: Progress | None = None,
    population: str | None = None,
) -> SimulationResult:
    """Simulate ``n`` pregnancies under each strategy (and the PSA and tornado when asked);
    ``population`` (a ``simulation_seroprevalence`` id) sets the seroprevalence and its range.

    Sizes past ``MAX_PREGNANCIES``, ``MAX_DRAWS`` or ``MAX_TOTAL`` are refused (``InputError``);
    ``progress`` is told how many chunks are done as they complete."""
    if n < 1 or psa_draws < 0 or psa_n < 1 or tornado_n < 1:
        raise InputError("n, psa_n and tornado_n must be positive, psa_draws not negative", field="n")
    for name, size in (("n", n), ("psa_n", psa_n), ("tornado_n", tornado_n)):
        if size > MAX_PREGNANCIES:
            raise InputError(f"{size:,} is above the maximum of {MAX_PREGNANCIES:,} pregnancies per cohort", field=name)
    if psa_draws > MAX_DRAWS:
        raise InputError(f"{psa_draws:,} is above the maximum of {MAX_DRAWS:,}", field="psa_draws")
    knowledge = knowledge or load_knowledge()
    total = n + psa_draws * psa_n + (2 * len(varied(knowledge, population)) * tornado_n if tornado else 0)
    if total > MAX_TOTAL:
        raise InputError(
            f"{total:,} pregnancies in all (base case, PSA and tornado) is above the maximum of {MAX_TOTAL:,} per run",
            field="n",
        )
    chosen = strategies_named(tuple(strategies), repeat_weeks)
    check_values(knowledge, inputs or {})
    values = override(base_inputs(knowledge, population), inputs or {})
    tasks = _tasks(values, chosen, n, seed, (0,))
    draws: list[dict[str, float]] = []
    for d in range(psa_draws):
        draws.append(override(draw_inputs(knowledge, np.random.default_rng([seed, 1, d]), population), inputs or {}))
        tasks += _tasks(draws[-1], chosen, psa_n, seed, (1, d))
    rows = varied(knowledge, population) if tornado else ()
    for row in rows:  # the same women (seed key 2) at every end: only the parameter changes
        for value in (row.low, row.high):
            tasks += _tasks({**values, row.id: value}, chosen, tornado_n, seed, (2,))
    results = _map(run_cohort, tasks, workers, scheduler, progress)
    reference = chosen[0].name
    base = summarise(merge(results[: len(_chunks(n))]), n, values, reference)
    offset = len(_chunks(n))
    psa: list[dict[str, dict[str, float]]] = []
    for inputs_d in draws:
        size = len(_chunks(psa_n))
        merged = merge(results[offset : offset + size])
        offset += size
        psa.append({s: {"cost_eur": cost(t, inputs_d) / psa_n, "qaly_loss": qaly_loss(t, inputs_d) / psa_n} for s, t in merged.items()})
    bars: list[dict[str, Any]] = []
    focus = chosen[1].name if len(chosen) > 1 else reference
    for row in rows:
        ends = []
        for value in (row.low, row.high):
            size = len(_chunks(tornado_n))
            merged = merge(results[offset : offset + size])
            offset += size
            ends.append(_net_benefit_gain(merged, {**values, row.id: value}, focus, reference, wtp) / tornado_n * 100_000)
        bars.append({"parameter": row.id, "label": row.label, "low": row.low, "high": row.high,
                     "nmb_at_low": ends[0], "nmb_at_high": ends[1]})  # fmt: skip
    bars.sort(key=lambda b: -abs(b["nmb_at_high"] - b["nmb_at_low"]))
    return SimulationResult(
        seed=seed, n=n, strategies=chosen, inputs=values, base=base, psa=psa,
        ceac=_ceac(psa, [s.name for s in chosen]), tornado=bars, wtp=wtp, knowledge=knowledge.stamp(),
        population=population,
    )  # fmt: skip


def _chunks(n: int) -> list[int]:
    return [min(CHUNK, n - start) for start in range(0, n, CHUNK)]


def _tasks(inputs: Mapping[str, float], strategies: tuple[Strategy, ...], n: int, seed: int, key: tuple[int, ...]) -> list[Task]:
    return [Task(dict(inputs), strategies, size, seed, (*key, i)) for i, size in enumerate(_chunks(n))]


def _net_benefit_gain(merged: Mapping[str, Mapping[str, int]], inputs: Mapping[str, float], focus: str, reference: str, wtp: float) -> float:
    """Net monetary benefit of ``focus`` over ``reference`` (euros, the whole chunk)."""
    def nmb(s: str) -> float:
        return -wtp * qaly_loss(merged[s], inputs) - cost(merged[s], inputs)
    return nmb(focus) - nmb(reference)


def _ceac(psa: list[dict[str, dict[str, float]]], names: list[str]) -> dict[str, list[float]]:
    """Probability that each strategy has the highest net monetary benefit, per WTP."""
    if not psa:
        return {}
    curve = {name: [] for name in names}  # type: dict[str, list[float]]
    for wtp in WTP_GRID:
        wins = dict.fromkeys(names, 0)
        for draw in psa:
            best = max(names, key=lambda s: -wtp * draw[s]["qaly_loss"] - draw[s]["cost_eur"])
            wins[best] += 1
        for name in names:
            curve[name].append(wins[name] / len(psa))
    return curve


def _map(fn: Callable[[T], R], tasks: list[T], workers: int, scheduler: str | None, progress: Progress | None = None) -> list[R]:
    """``fn`` over ``tasks`` in order: here, on a process pool, or on a Dask cluster."""
    if scheduler is not None:
        return _map_dask(fn, tasks, workers, scheduler, progress)
    if workers <= 1 or len(tasks) == 1:
        return _collect((fn(t) for t in tasks), len(tasks), progress)
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1 else "spawn"
    )
    load_knowledge()  # forked workers inherit the validated pack
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return _collect(pool.map(fn, tasks, chunksize=1), len(tasks), progress)


def _collect(results: Iterable[R], total: int, progress: Progress | None) -> list[R]:
    """The results in order, telling ``progress`` after each."""
    done: list[R] = []
    for result in results:
        done.append(result)
        if progress is not None:
            progress(len(done), total)
    return done


def _map_dask(fn: Callable[[T], R], tasks: list[T], workers: int, scheduler: str, progress: Progress | None) -> list[R]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - depends on the install
        raise InputError("--scheduler needs Dask distributed: pip install 'cmvcds[bulk]'", field="--scheduler") from None

    def gather(client: Any) -> list[R]:
        futures = client.map(fn, tasks, pure=False)
        for done, _ in enumerate(as_completed(futures), 1):  # type: ignore[no-untyped-call]  # distributed leaves it unannotated
            if progress is not None:
                progress(done, len(futures))
        return list(client.gather(futures))

    if scheduler == "local":
        with LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=max(workers, 1), threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
            return gather(client)
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as error:
        raise InputError(
            f"cannot reach the Dask scheduler at {scheduler!r} within {CONNECT_TIMEOUT_S} s ({type(error).__name__}); "
            "check the address (tcp://host:port) and that the scheduler is running",
            field="--scheduler",
        ) from None
    with client:
        return gather(client)
