"""The validation cache by shape (``adapters/fhir/validation.py``, issue 20 item 5) says exactly
what a fresh fhir.resources validation says, on thousands of resources: the official R4
examples, the EHR corpus, the CDS Hooks fixtures and one patient per call of
``tools/cds_requests.py``, each also mutated (a value made invalid for its type, emptied, of
another JSON type, a null in a list, an element removed or unknown, a date object) — the
resources a cached shape could wrongly pass. Valid ones are sent first, so that their shapes are
cached before their mutated look-alikes come."""

from __future__ import annotations

import copy
import json
import random
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from cmvcds.adapters.fhir import validation
from cmvcds.adapters.fhir.mapping import READ, _key, resources_of

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from cds_requests import generate  # noqa: E402

#: Values swapped in for a leaf: valid for some FHIR types, not for others (dates that do not
#: exist, a dateTime without its zone, blanks, ids too long or with a space, numbers of every
#: kind, a base64-looking word, a date object that JSON would not carry).
TRICKY: list[Any] = [
    "2026-02-30",
    "2026-13-01",
    "2026-11-10T12:00:00",
    "2026-11-10T12:00:00+01:00",
    "2026",
    "2026-11",
    "",
    " ",
    "a b",
    "a  b",
    " lead",
    "x" * 300,
    "obs1",
    "urn:oid:1.2.3",
    "Patient/",
    "1e5",
    "-0",
    "39",
    0,
    -1,
    1,
    39,
    2**31,
    2**63,
    1.5,
    -0.0,
    1e300,
    True,
    False,
    None,
    [],
    {},
    ["x"],
    {"value": 1},
    date(2026, 11, 10),
    datetime(2026, 11, 10, 12, 0),
]


def _resources() -> list[dict[str, Any]]:
    found: list[Any] = []
    for path in sorted((ROOT / "tests" / "fhir" / "r4-examples").glob("*.json")):
        found.append(json.loads(path.read_text(encoding="utf-8")))
    for path in sorted((ROOT / "tests" / "fhir" / "ehr" / "cases").glob("*.json")):
        found.append(json.loads(path.read_text(encoding="utf-8"))["request"])
    for path in sorted((ROOT / "tests" / "cdshooks" / "fixtures").glob("*.request.json")):
        found.append(json.loads(path.read_text(encoding="utf-8")))
    found += list(generate(150, seed=7))
    return [r for data in found for _, r in resources_of(data) if r.get("resourceType") in READ]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))] + [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))] + [path]
    return [path]


def _mutated(resource: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    out = copy.deepcopy(resource)
    paths = [p for p in _leaves(out) if p and p != ("resourceType",)]
    for _ in range(rng.choice((1, 1, 2))):
        path = rng.choice(paths)
        parent: Any = out
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        choice = rng.random()
        if choice < 0.7:
            parent[last] = copy.deepcopy(rng.choice(TRICKY))
        elif choice < 0.8 and isinstance(parent, list):
            parent.insert(last, None)
        elif choice < 0.9 and isinstance(parent, dict):
            del parent[last]
            break  # the paths below it are gone
        elif isinstance(parent, dict):
            parent[f"{last}x"] = "unknown element"
        return out
    return out


def test_shape_cache_says_what_a_fresh_validation_says(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("_problems_by_content", "_valid_shapes", "_valid_leaves"):
        monkeypatch.setattr(validation, name, {})
    rng = random.Random(21)
    base = _resources()
    mutated = [_mutated(r, rng) for r in base for _ in range(6)]
    rng.shuffle(mutated)
    checked = invalid = shared = 0
    original = validation.validate
    validations = []
    monkeypatch.setattr(
        validation, "validate", lambda kind, text: validations.append(kind) or original(kind, text)
    )
    for resource in base + mutated:
        kind = resource["resourceType"]
        try:
            text = _key(resource)
        except TypeError:
            continue
        before = len(validations)
        said = validation.fhir_problems(kind, resource, text)
        shared += len(validations) == before  # answered by a cache, not validated
        fresh = original(kind, text)
        assert said == fresh, (resource, said, fresh)
        checked += 1
        invalid += bool(fresh)
    # the mutations made many invalid resources, and valid shapes did answer
    assert checked > 2000 and invalid > checked // 4 and shared > checked // 4


def test_a_new_patient_is_answered_by_shape_and_a_bad_date_is_not() -> None:
    first, second = list(generate(2, seed=3))
    one = [r for _, r in resources_of(first["prefetch"])][1]
    other = [r for _, r in resources_of(second["prefetch"])][1]
    assert one != other and validation.shape("Observation", one) == validation.shape(
        "Observation", other
    )
    assert validation.fhir_problems("Observation", one, _key(one)) == ()
    bad = {**other, "effectiveDateTime": "2026-02-30"}
    assert validation.shape("Observation", bad) != validation.shape("Observation", one)
    problems = validation.fhir_problems("Observation", bad, _key(bad))
    assert problems and problems[0].startswith("effectiveDateTime")


def test_a_resource_found_valid_by_shape_is_not_walked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The therapy monitor maps each record twice (``services.map_record``): the second time a
    resource's answer comes from the content cache, without the shape walk; the same answer."""
    # an earlier test may have validated the same generated resources: start from no content
    monkeypatch.setattr(validation, "_problems_by_content", {})
    first, second = list(generate(2, seed=5))
    resource = [r for _, r in resources_of(first["prefetch"])][1]
    validation.fhir_problems("Observation", resource, _key(resource))  # its shape now known
    new = [r for _, r in resources_of(second["prefetch"])][1]
    walks = []
    shape = validation.shape
    monkeypatch.setattr(validation, "shape", lambda kind, r: walks.append(kind) or shape(kind, r))
    assert validation.fhir_problems("Observation", new, _key(new)) == ()
    assert validation.fhir_problems("Observation", new, _key(new)) == ()
    assert walks == ["Observation"]
    assert validation.validate("Observation", _key(new)) == ()
