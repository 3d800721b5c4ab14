"""``per_subject`` remembers by identity, never by equality, whatever the arguments (issue 20:
its key holds the id of an argument that is not a plain value, the entry holding the argument)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cmvcds.domain.memo import per_subject


@dataclass(frozen=True)
class _Pack:
    """Equal by value and unhashable (a dict field), as ``Knowledge`` is."""

    tables: dict[str, Any] = field(default_factory=dict)


def test_equal_but_distinct_arguments_are_computed_each() -> None:
    calls: list[tuple[Any, ...]] = []

    @per_subject
    def answer(subject: object, pack: _Pack, amount: Any, *, region: str = "us") -> int:
        calls.append((pack, amount, region))
        return len(calls)

    subject, first, second = object(), _Pack(), _Pack()
    assert first == second
    assert answer(subject, first, 1) == answer(subject, first, 1) == 1
    assert answer(subject, second, 1) == 2  # equal pack, another object
    assert answer(subject, first, Decimal("1.0")) == 3  # equal number, not a plain value
    assert answer(subject, first, 1, region="eu") == 4
    assert answer(subject, first, 1, region="eu") == 4
    assert answer(object(), first, 1) == 5  # another subject forgets the last one's answers
