"""Generate N CDS Hooks ``patient-view`` calls of the pregnancy service, one patient each.

Each is the golden request (``tests/cdshooks/fixtures/pregnancy-valacyclovir.request.json``)
varied as ``tools/bulk_cases.py`` varies cases: every date moved back by the same number of days
(0–56, so that the pregnancy is still current and no date lies after today), numeric values
(weight, creatinine, eGFR, avidity index, gestational age in days) scaled by up to ±8 % (each
with probability ½), and a patient of its own: a new id (``context.patientId``, ``Patient.id``
and every ``subject`` reference), new resource ids and a new ``hookInstance``. A server caching
anything by the request's content (FHIR validation is cached per resource) sees a new patient at
every call, as an EHR does when clinicians open different charts.

Values may cross a clinical threshold (e.g. the avidity cut-off): that is wanted (other answers).

    python tools/cds_requests.py 1000 > calls.ndjson
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bulk_cases import shifted_back

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "cdshooks" / "fixtures" / "pregnancy-valacyclovir.request.json"
#: The most days the golden request's dates are moved back: its pregnancy (39 days of gestation
#: on 2026-10-20) stays below 24 weeks on any day of 2026-12.
MAX_SHIFT_DAYS = 56


def _renamed(value: Any, old: str, new: str) -> Any:
    """``old`` replaced by ``new`` in every string of ``value`` (ids and references)."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return value


def variant(golden: dict[str, Any], n: int, rng: random.Random) -> dict[str, Any]:
    """The ``n``-th patient: the golden call with its dates, values and ids varied."""
    out: dict[str, Any] = _renamed(golden, "p-preg-1", f"p-bench-{n:07d}")
    out = shifted_back(out, rng.randint(0, MAX_SHIFT_DAYS))
    out["hookInstance"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    for entry in out["prefetch"]["observations"]["entry"]:
        resource = entry["resource"]
        resource["id"] = f"{resource['id']}-{n:07d}"
        quantity = resource.get("valueQuantity")
        if quantity and isinstance(quantity.get("value"), int | float) and rng.random() < 0.5:
            scaled = quantity["value"] * rng.uniform(0.92, 1.08)
            # a count of days stays a whole number (FHIR lets a decimal, the golden sends 39)
            quantity["value"] = round(scaled) if quantity.get("code") == "d" else round(scaled, 2)
    return out


def generate(n: int, seed: int = 21) -> Iterator[dict[str, Any]]:
    """``n`` calls, one patient each, reproducible by ``seed``."""
    rng = random.Random(seed)
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for i in range(n):
        yield variant(golden, i, rng)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    for item in generate(count):
        sys.stdout.write(json.dumps(item, separators=(",", ":")) + "\n")
