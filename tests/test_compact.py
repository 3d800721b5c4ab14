"""``Assessment.to_json`` (orjson from the result values) writes the bytes of ``orjson.dumps`` of
``to_dict()`` (issue 20): on every golden case (every example, with and without the example site
settings, every case the clinical tests assess, 2,000 generated cases) and on the edges of
``plain``'s rule that the golden cases may not reach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson
import pytest

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.domain.compact import dumps
from cmvcds.domain.plain import plain
from cmvcds.domain.settings import SiteSettings
from cmvcds.domain.vocabulary import Severity
from cmvcds.knowledge import Knowledge
from tests.golden.codec import decode
from tests.golden.test_golden import _records


def test_every_golden_assessment_is_written_byte_for_byte_as_its_plain_document(
    knowledge: Knowledge,
) -> None:
    fhir = {"not_used": ["Observation/x"], "assumed": ["a note: with a colon"]}
    records = _records()
    for record in records:
        case = parse_case(
            decode(record["case"]), knowledge, today=date.fromisoformat(record["today"])
        )
        settings = None
        if record.get("settings") is not None:
            raw = record["settings"]
            settings = SiteSettings(values=decode(raw["values"]), origin=raw["origin"])
        on = date.fromisoformat(record["on"]) if record.get("on") else None
        assessment = assess(case, knowledge, on, settings)
        document = assessment.to_dict()
        assert assessment.to_json() == orjson.dumps(document), record["case"].get("id")
        assert assessment.to_json({"fhir": fhir}) == orjson.dumps({**document, "fhir": fhir})
    assert len(records) > 4000


class _Level(Enum):
    WHOLE = 2.0
    TEXT = "text"


@dataclass(frozen=True)
class _Inner:
    when: date
    level: Severity


@dataclass(frozen=True)
class _Edges:
    whole: float
    half: float
    exact: Decimal
    fraction: Decimal
    moment: datetime
    odd_enum: _Level
    inner: _Inner
    mixed: tuple[Any, ...]
    texts: tuple[str, ...]
    empty: tuple[str, ...] = ()
    empty_list: list[str] | None = None
    absent: str | None = None
    citations: tuple[str, ...] = ()  # kept when empty (KEEP_EMPTY)
    dose_mg: float | None = None  # kept when None (KEEP_EMPTY)
    mapping: dict[Any, Any] | None = None
    anything: Any = None


@dataclass(frozen=True)
class _Hidden:
    _private: int
    shown: str


def _with_extra_attribute() -> _Inner:
    value = _Inner(date(2026, 4, 1), Severity.CRITICAL)
    object.__setattr__(value, "cached", 1.0)  # orjson would write it; plain does not
    return value


_VALUES = [
    _Inner(date(2026, 1, 1), Severity.INFO),
    _Hidden(1, "x"),
    _with_extra_attribute(),
    [
        _Edges(
            2.5,
            0.5,
            Decimal(1),
            Decimal(1),
            datetime(2026, 1, 1),
            _Level.TEXT,
            _Inner(date(2026, 1, 1), Severity.INFO),
            (),
            ("a",),
            citations=("c",),
            dose_mg=3.0,
        )
    ],
    _Edges(
        whole=2.0,
        half=0.5,
        exact=Decimal("3.000"),
        fraction=Decimal("1.25"),
        moment=datetime(2026, 1, 2, 3, 4, 5, 6),
        odd_enum=_Level.WHOLE,
        inner=_Inner(date(5, 1, 1), Severity.WARNING),
        mixed=(1, 1.0, Decimal("2.50"), None, _Level.TEXT, _Inner(date(2026, 3, 1), Severity.INFO)),
        texts=("a", "b:c"),
        empty_list=[],
        mapping={1: 2.0, "d": date(2026, 1, 1), "nested": {"x": (Decimal("1e3"), "y")}},
        anything=[_Level.WHOLE, 3.0, {"z": _Inner(date(2026, 2, 2), Severity.WARNING)}],
    ),
    _Edges(
        1.5,
        2.0,
        Decimal("-0"),
        Decimal("1E-7"),
        datetime(2026, 1, 1),
        _Level.TEXT,
        _Inner(date(2026, 1, 1), Severity.INFO),
        (),
        (),
        anything=Decimal("7"),
    ),
    [_Inner(date(2026, 1, 1), Severity.INFO), 2.0, "t"],
    {"k": (_Inner(date(2026, 1, 1), Severity.INFO),)},
]


@pytest.mark.parametrize("value", _VALUES)
def test_the_edges_of_the_plain_rule_are_written_as_plain_writes_them(value: Any) -> None:
    assert dumps(value) == orjson.dumps(plain(value))
    assert dumps(value) == dumps(value)  # and again, with the converters and types remembered


def test_what_orjson_refuses_is_refused_both_ways() -> None:
    big = _Inner(date(2026, 1, 1), Severity.INFO), Decimal(2**70)
    with pytest.raises(TypeError):
        orjson.dumps(plain(big))
    with pytest.raises(TypeError):
        dumps(big)


def test_both_converters_take_their_skips_from_the_one_rule() -> None:
    """``plain`` and ``compact`` generate their converters from ``field_rule`` (design.md §4):
    every key of ``KEEP_EMPTY`` written when None or empty, every other key left out when None
    or ``()`` and written as an empty list; the two ways give the same JSON for each."""
    import dataclasses

    from cmvcds.domain.plain import KEEP_EMPTY, field_rule

    assert {n for n in KEEP_EMPTY if field_rule(n).other == "True"} == KEEP_EMPTY
    assert field_rule("reason").none == "pass"
    names = [*sorted(KEEP_EMPTY), "reason", "genes"]
    shape = dataclasses.make_dataclass("_Shape", [(n, Any) for n in names], frozen=True)
    for empty in (None, (), []):
        value = shape(*[empty] * len(names))
        written = plain(value)
        expected = set(KEEP_EMPTY) | ({"reason", "genes"} if isinstance(empty, list) else set())
        assert set(written) == expected, empty
        assert dumps(value) == orjson.dumps(written)
