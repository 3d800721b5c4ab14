"""Result values → the compact JSON of their plain form, written by orjson from the values.

``orjson.dumps(plain(value))`` is the JSON every door writes (design.md §4). A bulk run writes it
for every case, and building the plain values first cost about seven times what orjson takes to
write them (issue 20). ``dumps`` gives the same bytes without most of that (``compact`` keeps what
it can as it is, ``write`` writes it): orjson walks the values itself and hands each dataclass to ``_default`` (``OPT_PASSTHROUGH_DATACLASS``), whose
converter, generated once per class, maps its fields by ``plain``'s rule (declaration order; None
and ``()`` left out except ``KEEP_EMPTY``: ``plain.field_rule``, the one source of those skips) but keeps as they are the values that orjson writes
exactly as their plain form: texts, ints, booleans, exact dates (orjson's ISO form is
``isoformat()``), enums whose values are all texts or ints (orjson writes the value), dataclasses
(their turn comes through ``_default``), and tuples or lists of these. Every other value (a float,
whose whole values plain writes as integers; a Decimal; a mapping; a datetime) is given to orjson
in its plain form. ``tests/test_compact.py`` compares the bytes of both ways on every example and
every golden case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson

from cmvcds.domain.code_cache import compiled
from cmvcds.domain.plain import field_rule, plain

__all__ = ["compact", "dumps", "write"]


def dumps(value: Any) -> bytes:
    """``orjson.dumps(plain(value))``, the same bytes; raises ``TypeError`` where that does
    (orjson refuses an integer beyond 64 bits)."""
    return write(compact(value))


def write(value: Any) -> bytes:
    """The JSON of ``value``, whose parts are ``compact`` forms (a mapping of text keys to them,
    as ``Assessment.to_json`` builds)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATACLASS)


def compact(value: Any) -> Any:
    """``value`` in a form that orjson writes as its plain form: as it is where it can be (a
    mapping or sequence too, when everything in it can), else converted as ``plain`` converts it,
    one level at a time."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        if _written_as_is(value):
            return value
        return {str(k): compact(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        kinds = set(map(type, value))
        convert = _CONVERTERS.get(kinds.pop()) if len(kinds) == 1 else None
        if convert is not None:
            # a list of results (decisions, schedule, alerts …): each converted here as
            # ``_default`` would convert it, without orjson's round trip through it
            return list(map(convert, value))
        return value if _written_as_is(value) else [compact(v) for v in value]
    return value if _as_is(kind) else plain(value)


#: Types orjson writes as their plain form, a Decimal through ``_default`` (grown by ``_as_is``
#: with the enums and dataclasses met).
_AS_IS: set[type] = {str, int, bool, date, Decimal}
_CONVERTED: set[type] = set()
_CONTAINERS = (dict, list, tuple)
_NONE = type(None)


def _written_as_is(container: dict[Any, Any] | list[Any] | tuple[Any, ...]) -> bool:
    """Whether orjson writes ``container`` as its plain form: text keys, and values that are
    None, ``_as_is`` or such containers themselves. Types are compared a container at a time
    (in C); a case's findings nest a few levels, with dates and Decimals at the leaves."""
    if type(container) is dict:
        if not _TEXT.issuperset(map(type, container)):
            return False
        values: Any = container.values()
    else:
        values = container
    kinds = set(map(type, values))
    kinds.discard(_NONE)
    if kinds <= _AS_IS:
        return True
    for kind in kinds - _AS_IS:
        if kind not in _CONTAINERS and not _as_is(kind):
            return False
    # a loop, not ``all`` over a generator (one per container): the JSON line −1.2 % (ADR 0032)
    for v in values:  # noqa: SIM110
        if type(v) in _CONTAINERS and not _written_as_is(v):
            return False
    return True


_TEXT = frozenset({str})


def _as_is(kind: type) -> bool:
    """Whether orjson writes a ``kind`` value exactly as its plain form (remembered per type),
    checked in ``plain``'s order: an enum by its value when its values are texts or ints, a date
    subclass (a datetime) and a float never, a dataclass through ``_default``."""
    if kind in _AS_IS:
        return True
    if kind in _CONVERTED:
        return False
    if issubclass(kind, Enum):
        found = all(type(member._value_) in (str, int) for member in kind)
    else:
        found = not issubclass(kind, date | float | Decimal) and is_dataclass(kind)
    (_AS_IS if found else _CONVERTED).add(kind)
    return found


def _default(value: Any) -> Any:
    """What orjson asks for: a dataclass as the mapping of its fields, a Decimal as plain."""
    kind = type(value)
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter(kind) if is_dataclass(kind) else plain
    return convert(value)


def _converter(kind: type) -> Callable[[Any], dict[str, Any]]:
    """Generated, for one dataclass: its fields by ``plain``'s rule (as ``plain.py`` generates
    them), each value kept as it is where orjson writes it as its plain form, else ``compact``."""
    lines = ["def convert(value):", "    out = {}"]
    for f in fields(kind):
        name = f.name
        rule = field_rule(name)  # the skips of ``plain``'s rule, from its one source
        lines += [
            f"    item = value.{name}",
            "    kind = type(item)",
            "    if kind in as_is:",
            f"        out[{name!r}] = item",
            "    elif kind is tuple or kind is list:",
            f"        if {rule.sequence}:",
            f"            out[{name!r}] = item if as_is_all(map(type, item)) else compact(item)",
            "    elif item is None:",
            f"        {rule.none}",
            f"    elif {rule.other}:",
            f"        out[{name!r}] = compact(item)",
        ]
    lines.append("    return out")
    namespace: dict[str, Any] = {
        "as_is": _AS_IS,
        "as_is_all": _AS_IS.issuperset,
        "compact": compact,
    }
    # source built from the class's own field names, compiled once per machine (``code_cache``)
    exec(compiled("\n".join(lines)), namespace)
    converter: Callable[[Any], dict[str, Any]] = namespace["convert"]
    return converter


_CONVERTERS: dict[type, Callable[[Any], Any]] = {}
