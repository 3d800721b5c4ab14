"""The result fast paths of issue 20 give what the code they replaced gave (zero changed answers):

- ``fast_init``: every decorated class builds the same instance as its ``@dataclass``-generated
  ``__init__`` (same ``__dict__``, in the same order, same values, equality, hash, ``repr``,
  pickling, and the same ``TypeError`` for a wrong call), on synthetic values and on every result
  value of the golden assessments;
- ``append_new`` (merging pathway results) keeps the same items in the same order as the set of
  whole items it replaced, on the golden assessments' lists merged in pieces, with duplicates,
  items of other cases, and lists mixing result types;
- ``flag_unverified`` adds an alert exactly when the message-then-value test it replaced did.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import random
from dataclasses import InitVar, dataclass, field, fields
from datetime import date
from operator import attrgetter
from typing import Any

import pytest

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.domain.fast_init import GENERATED, fast_init
from cmvcds.domain.results import (
    Alert,
    Decision,
    Missing,
    PathwayResult,
    Regimen,
    ScheduleItem,
    SettingUse,
    append_new,
    schedule_items,
    unverified_alert,
)
from cmvcds.domain.settings import SiteSettings
from cmvcds.domain.vocabulary import AlertCode, ScheduleEvent, Severity
from cmvcds.knowledge import Knowledge
from tests.golden.codec import decode
from tests.golden.test_golden import _records

#: The modules whose classes use ``fast_init`` (imported so that ``GENERATED`` holds them all).
MODULES = (
    "cmvcds.domain.results",
    "cmvcds.engine.dosing.check",
    "cmvcds.engine.dosing.protocol",
    "cmvcds.engine.dosing.result",
    "cmvcds.engine.kinetics",
    "cmvcds.engine.monitoring.courses",
    "cmvcds.engine.monitoring.resistance",
    "cmvcds.engine.resistance.report",
    "cmvcds.engine.transplant.common",
    "cmvcds.engine.transplant.preemptive",
)

_MESSAGE = attrgetter("message")


def _decorated() -> list[type]:
    for module in MODULES:
        importlib.import_module(module)
    return sorted(GENERATED, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _old(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``cls(*args, **kwargs)`` through the ``__init__`` that ``@dataclass`` generated."""
    instance = object.__new__(cls)
    GENERATED[cls](instance, *args, **kwargs)
    return instance


def _same(new: Any, old: Any, identical: bool = True) -> None:
    """``new`` and ``old`` are the same value in every respect a reader can see (``identical``:
    each field holds the very same object; else equal ones, as two default factories give)."""
    assert type(new) is type(old)
    assert list(new.__dict__) == list(old.__dict__) == [f.name for f in fields(old)]
    assert list(new.__dict__.items()) == list(old.__dict__.items())
    assert not identical or all(new.__dict__[k] is old.__dict__[k] for k in old.__dict__)
    assert new == old and hash(new) == hash(old) and repr(new) == repr(old)
    again = pickle.loads(pickle.dumps(new))
    assert again == old and list(again.__dict__) == list(old.__dict__)


def test_every_engine_result_class_is_decorated() -> None:
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in _decorated()}
    assert {Decision, Regimen, ScheduleItem, Alert, SettingUse, Missing} <= set(GENERATED)
    assert "cmvcds.engine.kinetics.Point" in names and len(names) >= 20


@pytest.mark.parametrize("cls", _decorated(), ids=lambda cls: cls.__qualname__)
def test_fast_init_builds_what_the_generated_init_builds(cls: type) -> None:
    assert inspect.signature(cls.__init__) == inspect.signature(GENERATED[cls])
    rng = random.Random(cls.__qualname__)
    every = fields(cls)
    required = [f for f in every if f.default is f.default_factory]  # both MISSING
    for trial in range(200):
        values = {f.name: (trial, rng.random(), f.name) for f in every}
        # all positional; all by keyword, shuffled; only the required ones
        _same(cls(*values.values()), _old(cls, *values.values()))
        named = list(values.items())
        rng.shuffle(named)
        _same(cls(**dict(named)), _old(cls, **dict(named)))
        least = {f.name: values[f.name] for f in required}
        _same(cls(**least), _old(cls, **least), identical=False)
    for wrong in ({}, {"not_a_field": 1}):
        with pytest.raises(TypeError) as new_error:
            cls(**wrong)
        with pytest.raises(TypeError) as old_error:
            _old(cls, **wrong)
        assert str(new_error.value) == str(old_error.value)


def test_fast_init_refuses_what_it_cannot_build_alike() -> None:
    @dataclass(frozen=True)
    class Later:
        a: int

        def __post_init__(self) -> None: ...

    @dataclass(frozen=True)
    class Hidden:
        a: int
        b: int = field(default=0, init=False)

    @dataclass(frozen=True)
    class Passed:
        a: int
        b: InitVar[int]

    @dataclass
    class Mutable:
        a: int

    @dataclass(frozen=True, slots=True)
    class Slotted:
        a: int

    @dataclass(frozen=True)
    class Described:
        a: int = property(lambda self: 1)  # type: ignore[assignment]

    for cls in (Later, Hidden, Passed, Mutable, Slotted, Described):
        with pytest.raises(TypeError, match="fast_init"):
            fast_init(cls)
    assert not GENERATED.keys() & {Later, Hidden, Passed, Mutable, Slotted, Described}


@pytest.fixture(scope="module")
def golden_results(knowledge: Knowledge) -> list[PathwayResult]:
    """The merged results of every golden assessment (5,000+ cases, every context)."""
    found = []
    for record in _records():
        case = parse_case(
            decode(record["case"]), knowledge, today=date.fromisoformat(record["today"])
        )
        settings = None
        if record.get("settings") is not None:
            raw = record["settings"]
            settings = SiteSettings(values=decode(raw["values"]), origin=raw["origin"])
        on = date.fromisoformat(record["on"]) if record.get("on") else None
        found.append(assess(case, knowledge, on, settings).result)
    assert len(found) > 4000
    return found


def test_every_golden_result_value_rebuilt_by_the_generated_init_is_the_same(
    golden_results: list[PathwayResult],
) -> None:
    counted = 0
    for result in golden_results:
        values = [
            *result.decisions,
            *result.regimens,
            *result.schedule,
            *result.alerts,
            *result.missing,
            *result.settings_origin.values(),
        ]
        for value in values:
            cls = type(value)
            arguments = [getattr(value, f.name) for f in fields(cls)]
            # (a regimen of the dose calculator is built by ``engine/frozen.py``: compared by value)
            assert value == _old(cls, *arguments)
            _same(cls(*arguments), _old(cls, *arguments))
            counted += 1
    assert counted > 50_000


def _append_new_before(items: list[Any], new: list[Any]) -> None:
    """``append_new`` as it was before issue 20's second pass (a set of the whole items)."""
    if not new:
        return
    seen = set(items)
    for item in new:
        if item not in seen:
            seen.add(item)
            items.append(item)


def _copy(value: Any) -> Any:
    """An equal value that is not the same object (duplicates across pathways are copies)."""
    return _old(type(value), *(getattr(value, f.name) for f in fields(value)))


def test_append_new_keeps_what_the_set_of_whole_items_kept(
    golden_results: list[PathwayResult],
) -> None:
    rng = random.Random(20)
    changed = 0
    for number, result in enumerate(golden_results):
        other = golden_results[(number * 7 + 3) % len(golden_results)]
        for name in ("schedule", "alerts", "missing"):
            mine, theirs = list(getattr(result, name)), list(getattr(other, name))
            pool = mine + theirs + [_copy(v) for v in mine] + rng.sample(mine, len(mine) // 2)
            if number % 5 == 0:  # a list mixing result types takes the plain way
                pool += result.alerts[:2] + result.schedule[:2] + result.missing[:1]
            rng.shuffle(pool)
            cuts = sorted(rng.sample(range(len(pool) + 1), min(3, len(pool) + 1)))
            before: list[Any] = []
            after: list[Any] = []
            for start, stop in zip([0, *cuts], [*cuts, len(pool)], strict=True):
                piece = pool[start:stop]
                _append_new_before(before, piece)
                append_new(after, tuple(piece) if number % 2 else piece)
            assert after == before and all(map(lambda a, b: a is b, after, before))
            changed += len(pool) != len(after)
    assert changed > 1000  # duplicates were met and dropped


def test_append_new_compares_equal_values_of_one_type_only() -> None:
    day = date(2026, 12, 7)
    item = ScheduleItem(next(iter(ScheduleEvent)), day, ("s",))
    twin = ScheduleItem(item.event, day, ("s",))
    other = ScheduleItem(item.event, day, ("t",))  # same date and event, other citation
    items: list[Any] = [item]
    append_new(items, [twin, other, other, Missing("a", "b"), Missing("a", "b")])
    assert items == [item, other, Missing("a", "b")] and items[1] is other


def test_flag_unverified_adds_an_alert_when_the_message_then_value_test_did(
    golden_results: list[PathwayResult],
) -> None:
    rng = random.Random(7)
    flagged = [
        a for r in golden_results[:800] for a in r.alerts if a.code is AlertCode.UNVERIFIED_FACT
    ]
    assert len(flagged) > 500
    same_message = Alert(AlertCode.UNVERIFIED_FACT, Severity.INFO, flagged[0].message, ("x",))
    for number, result in enumerate(golden_results[:2000]):
        alerts = list(result.alerts)
        if number % 3 == 0:
            alerts.append(same_message)
        for _ in range(5):
            shown = rng.choice(flagged)
            what = shown.message.removeprefix(
                "Not yet verified against its primary source: "
            ).removesuffix(".")
            citations = shown.citations if number % 4 else ("other",)
            alert = unverified_alert(what, citations)
            before = alert.message not in map(_MESSAGE, alerts) or alert not in alerts
            merged = PathwayResult(alerts=list(alerts))
            merged.flag_unverified(what, citations)
            assert (len(merged.alerts) == len(alerts) + 1) is before
            if before:
                assert merged.alerts[-1] is alert
            alerts = merged.alerts


def test_a_new_pathway_result_is_what_the_generated_init_made() -> None:
    @dataclass
    class Generated:
        findings: dict[str, Any] = field(default_factory=dict)
        decisions: list[Decision] = field(default_factory=list)
        regimens: list[Regimen] = field(default_factory=list)
        schedule: list[ScheduleItem] = field(default_factory=list)
        alerts: list[Alert] = field(default_factory=list)
        missing: list[Missing] = field(default_factory=list)
        settings_used: dict[str, Any] = field(default_factory=dict)
        settings_origin: dict[str, SettingUse] = field(default_factory=dict)

    names = [f.name for f in fields(PathwayResult)]
    assert names == [f.name for f in fields(Generated)]
    assert list(inspect.signature(PathwayResult).parameters) == names
    for given in range(1 << len(names)):
        values = {n: [i] for i, n in enumerate(names) if given >> i & 1}
        new, old = PathwayResult(**values), Generated(**values)
        assert list(new.__dict__.items()) == list(old.__dict__.items())
        assert all(new.__dict__[n] is values[n] for n in values)
        assert all(type(new.__dict__[n]) is type(old.__dict__[n]) for n in names)
        assert repr(new).partition("(")[2] == repr(old).partition("(")[2]
        positional = [values.get(n, []) for n in names]
        assert PathwayResult(*positional) == PathwayResult(
            **dict(zip(names, positional, strict=True))
        )
    first, second = PathwayResult(), PathwayResult()
    assert first.alerts is not second.alerts and first.findings is not second.findings


def test_schedule_items_are_the_items_the_generated_init_builds(
    golden_results: list[PathwayResult],
) -> None:
    """``schedule_items`` (a calendar's items without a class call each, ADR 0032) gives, for
    every golden schedule item without a latest date, the very item ``ScheduleItem`` builds;
    and for random dates, events, citations and reasons (None too), in order, none skipped."""
    counted = 0
    for result in golden_results:
        for item in result.schedule:
            if item.latest is not None:
                continue
            (built,) = schedule_items(item.event, [item.earliest], item.citations, item.reason)
            _same(
                built,
                _old(ScheduleItem, item.event, item.earliest, item.citations, None, item.reason),
            )
            _same(
                built, ScheduleItem(item.event, item.earliest, item.citations, reason=item.reason)
            )
            counted += 1
    assert counted > 50_000
    rng = random.Random(32)
    events = list(ScheduleEvent)
    for _ in range(300):
        event = rng.choice(events)
        days = [date.fromordinal(rng.randrange(730_000, 740_000)) for _ in range(rng.randrange(6))]
        citations = tuple(str(rng.random()) for _ in range(rng.randrange(3)))
        reason = rng.choice([None, "", str(rng.random())])
        built = schedule_items(event, iter(days), citations, reason)
        assert len(built) == len(days)
        for item, day in zip(built, days, strict=True):
            _same(item, _old(ScheduleItem, event, day, citations, None, reason))
    assert schedule_items(ScheduleEvent.VIRAL_LOAD, [], (), None) == []
