"""Generate N NDJSON cases for bulk tests and benchmarks, derived from examples/*.yaml.

Every context is represented (one example after the other); each copy is the example with every
date moved back by the same number of days (so the history keeps its intervals and no date lies
after today) and its weight and numeric laboratory values scaled by up to ±8 %, with a new id.
Values of a scaled copy may cross a clinical threshold: that is wanted (other answers), and the
bulk tests compare with ``assess()`` on the same line, not with the example's answer.

    python tools/bulk_cases.py 100000 > cases.ndjson
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def examples() -> list[dict[str, Any]]:
    """Every example case (``settings.yaml`` is not a case)."""
    found = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("format") == "cmvcds-case/1":
            found.append(_plain(data))
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def shifted_back(value: Any, days: int) -> Any:
    """Every ISO date (``YYYY-MM-DD``) in ``value`` moved back ``days`` days (also used by
    ``cds_requests.py``)."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return (date.fromisoformat(value) - timedelta(days=days)).isoformat()
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: shifted_back(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [shifted_back(v, days) for v in value]
    return value


def _scaled(value: float, rng: random.Random) -> float:
    return round(value * rng.uniform(0.92, 1.08), 2)


def variant(case: dict[str, Any], n: int, rng: random.Random) -> dict[str, Any]:
    """The ``n``-th copy of ``case``: dates shifted back, weight and lab values scaled."""
    out: dict[str, Any] = shifted_back(case, rng.randint(0, 700))
    out["id"] = f"{case['id']}-{n:07d}"
    patient = out.get("patient") or {}
    if isinstance(patient.get("weight_kg"), int | float):
        patient["weight_kg"] = _scaled(patient["weight_kg"], rng)
    for observation in out.get("observations") or []:
        if isinstance(observation.get("value"), int | float) and rng.random() < 0.5:
            observation["value"] = _scaled(observation["value"], rng)
    return out


def generate(n: int, seed: int = 20) -> Iterator[dict[str, Any]]:
    """``n`` cases cycling through every example, reproducible by ``seed``."""
    rng = random.Random(seed)
    base = examples()
    for i in range(n):
        yield variant(base[i % len(base)], i, rng)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    for item in generate(count):
        sys.stdout.write(json.dumps(item, separators=(",", ":")) + "\n")
