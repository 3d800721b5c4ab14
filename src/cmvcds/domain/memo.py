"""Memos of pure functions for values one assessment asks for again and again (a case's
viral-load series and its dose patient: ``same_call``; the dose of one drug for one patient:
``per_subject``).

Arguments are compared by identity (``is``), and by value only for immutable value types whose
equal values print alike (text, whole numbers, dates, enums, None; never a Decimal, where
``1.0 == 1``): a frozen case is the same case as long as it is the same object, so an answer
cannot be stale. Only the last call (``same_call``) or the calls made for the last subject
(``per_subject``) are remembered, not a table: memory stays constant over a population run, and
a thread that meets another thread's call computes its own. A result is shared between calls, so
it must be immutable (tuples, frozen dataclasses) or read-only by contract.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import Enum
from functools import wraps
from typing import Any, TypeVar, cast

__all__ = ["per_subject", "same_call"]

F = TypeVar("F", bound=Callable[..., Any])

#: Types whose equal values are interchangeable (immutable, compared by value).
_VALUES = frozenset({date, str, int, bool, type(None)})


def same_call(function: F) -> F:
    """``function`` remembering its last positional call (see the module)."""
    last: tuple[tuple[Any, ...], Any] | None = None

    @wraps(function)
    def remembered(*args: Any) -> Any:
        nonlocal last
        seen = last
        if seen is not None:
            before = seen[0]
            if len(before) == len(args):
                for a, b in zip(before, args, strict=True):
                    if a is not b and not (type(a) is type(b) and type(a) in _VALUES and a == b):
                        break
                else:
                    return seen[1]
        result = function(*args)
        last = (args, result)
        return result

    return cast(F, remembered)


def _key(value: Any) -> Any:
    """``value`` as part of a key: by value for the value types, else by identity (``id``; the
    memo entry holds the object, so that its id is not reused while the entry lives)."""
    kind = type(value)
    if kind in _VALUES or isinstance(value, Enum):
        return (kind, value)
    return id(value)


def _named_key(option: tuple[str, Any]) -> tuple[str, Any]:
    return option[0], _key(option[1])


def per_subject(function: F) -> F:
    """``function(subject, …)`` remembering every call made for its last ``subject`` (compared by
    identity), each by its other arguments (see the module)."""
    state: tuple[Any, dict[Any, Any]] | None = None

    @wraps(function)
    def remembered(subject: Any, *args: Any, **options: Any) -> Any:
        nonlocal state
        seen = state
        if seen is None or seen[0] is not subject:
            seen = state = (subject, {})
        key = tuple(map(_key, args))
        if options:
            key += tuple(map(_named_key, options.items()))
        entry = seen[1].get(key)
        if entry is None:
            # the arguments are kept with the answer: an argument keyed by identity stays alive
            entry = seen[1][key] = (function(subject, *args, **options), args, options)
        return entry[0]

    return cast(F, remembered)
