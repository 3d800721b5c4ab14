"""100,000 dose recommendations in one process: per-call time after warm-up (target < 50 µs).

Run: ``.venv/bin/python bench/bench_dose.py``. The inputs cycle through every drug and indication
the tables dose, with creatinine, weight, age and sex varied so that every renal band is visited.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import date
from decimal import Decimal

from cmvcds.engine.dosing import DosePatient, recommend_dose
from cmvcds.knowledge import load_knowledge

CALLS = 100_000
WARM_UP = 2_000

#: (drug, indication, options) — the regimens a pathway asks for.
REQUESTS = [
    ("valganciclovir", "induction", {}),
    ("valganciclovir", "maintenance", {}),
    ("valganciclovir", "prophylaxis", {}),
    ("valganciclovir", "congenital", {}),
    ("ganciclovir", "induction", {}),
    ("ganciclovir", "maintenance", {}),
    ("foscarnet", "induction", {}),
    ("foscarnet", "induction", {"regimen": "90-q12h"}),
    ("foscarnet", "maintenance", {}),
    ("cidofovir", "induction", {}),
    ("letermovir", "prophylaxis", {}),
    ("maribavir", "refractory", {}),
    ("valacyclovir", "pregnancy-prevention", {}),
    ("valacyclovir", "prophylaxis", {"region": "eu"}),
]


#: The assessment date the pregnancy protocol's exclusions are dated against.
ASSESSED_ON = date(2026, 11, 21)


def patients(count: int, seed: int = 4) -> list[DosePatient]:
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        made.append(
            DosePatient(
                age_years=Decimal(rng.randint(18, 90)),
                age_days=None,
                sex=rng.choice(("female", "male")),
                weight_kg=Decimal(rng.randint(400, 1400)) / 10,
                height_cm=Decimal(rng.randint(150, 195)),
                creatinine_mg_dl=Decimal(rng.randint(40, 1200)) / 100,
                egfr_ml_min_173=None,
                measured_crcl_ml_min=None,
                urine_protein_mg_dl=Decimal(rng.randint(0, 150)),
                transplant_organ=rng.choice(("kidney", "heart", "hsct", "liver")),
                assessed_on=ASSESSED_ON,
                co_medications=rng.choice(
                    ((), ("cyclosporine",), ("carbamazepine",), ("tacrolimus",))
                ),
            )
        )
    return made


def main() -> None:
    knowledge = load_knowledge(os.environ.get("CMVCDS_KNOWLEDGE") or None)
    people = patients(1_000)
    jobs = [(people[i % len(people)], *REQUESTS[i % len(REQUESTS)]) for i in range(CALLS)]
    for patient, drug, indication, options in jobs[:WARM_UP]:
        recommend_dose(patient, drug, indication, knowledge, **options)
    outcomes: dict[str, int] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    for patient, drug, indication, options in jobs:
        result = recommend_dose(patient, drug, indication, knowledge, **options)
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    samples = []  # single-call wall times, for the spread
    for patient, drug, indication, options in jobs[:5_000]:
        t0 = time.perf_counter()
        recommend_dose(patient, drug, indication, knowledge, **options)
        samples.append(time.perf_counter() - t0)
    samples.sort()
    print(
        f"{CALLS:,} dose recommendations after {WARM_UP:,} warm-up calls (target < 50 µs per call):"
    )
    print(f"  CPU time  {cpu:.2f} s: {cpu / CALLS * 1e6:.1f} µs per call")
    print(f"  wall time {wall:.2f} s: {wall / CALLS * 1e6:.1f} µs per call")
    print(
        f"  single calls (wall): median {statistics.median(samples) * 1e6:.1f} µs, "
        f"p95 {samples[int(len(samples) * 0.95)] * 1e6:.1f} µs"
    )
    print(f"  machine: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("  outcomes:", ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items())))


if __name__ == "__main__":
    main()
