"""Result values → JSON-ready Python values, through converters compiled once per type.

The rule (design.md §4, unchanged since the first release): an enum gives its value, a date its
ISO form, a Decimal or a whole float an int (else a float), a dataclass a mapping of its fields
in declaration order without the fields that are None or ``()`` (except ``KEEP_EMPTY``, the keys
design.md shows even when empty), a mapping its items with text keys, a list or tuple a list;
anything else is kept as it is.

Why compiled: walking every value with ``isinstance`` tests and ``dataclasses.fields`` cost about
a fifth of a bulk assessment (issue 20). Here each type met is looked up once in a table that
maps it to its converter; a dataclass's converter is generated source code that reads each field
by name. The golden comparison (tests/golden) holds the output to the walking version's,
character for character.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from cmvcds.domain.code_cache import compiled

__all__ = ["KEEP_EMPTY", "FieldRule", "field_rule", "plain"]

#: Keys design.md shows even when empty or null.
KEEP_EMPTY = frozenset({"citations", "reasons", "stop", "every_h", "dose_mg"})


@dataclass(frozen=True)
class FieldRule:
    """The rule's skips for one dataclass field, as the source lines of the converters that
    ``plain`` and ``compact`` generate (one place, so that the two cannot come to differ): the
    condition for writing a tuple or list ``item`` (of type ``kind``), the statement for a None
    ``item``, and the condition for writing any other ``item``."""

    sequence: str
    none: str
    other: str


def field_rule(name: str) -> FieldRule:
    """The rule for the field ``name``: left out when None or ``()`` (an empty list is
    written), except the keys of ``KEEP_EMPTY``, always written."""
    if name in KEEP_EMPTY:
        return FieldRule("True", f"out[{name!r}] = None", "True")
    return FieldRule("item or kind is list", "pass", "not item == ()")


Converter = Callable[[Any], Any]


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data (see the module's rule)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter_for(kind)
    return convert(value)


def _same(value: Any) -> Any:
    return value


def _enum(value: Enum) -> Any:
    return value._value_  # what ``.value`` returns, without the descriptor


def _date(value: date) -> str:
    return value.isoformat()


def _decimal(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _float(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _mapping(value: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k): plain(v) for k, v in value.items()}


def _sequence(value: list[Any] | tuple[Any, ...]) -> list[Any]:
    return [v if type(v) is str else plain(v) for v in value]


def _converter_for(kind: type) -> Converter:
    """The converter of ``kind``, chosen in the rule's order (an enum that is also a ``str`` is
    an enum; a ``datetime`` is a date)."""
    if issubclass(kind, Enum):
        return _enum
    if issubclass(kind, date):
        return _date
    if issubclass(kind, Decimal):
        return _decimal
    if issubclass(kind, float):
        return _float
    if hasattr(kind, "__dataclass_fields__"):
        return _dataclass_converter(kind)
    if issubclass(kind, Mapping):
        return _mapping
    if issubclass(kind, list | tuple):
        return _sequence
    return _same


def _dataclass_converter(kind: type) -> Converter:
    """Generated: ``out[name] = plain(value.name)`` for each field, in declaration order, skipped
    when None or ``()`` unless the name is in ``KEEP_EMPTY``. The most frequent values are
    converted in place, without a call: text as it is, a list or tuple (of citations,
    reasons…), an enum (its value), a date (its ISO form)."""
    from dataclasses import fields

    lines = ["def convert(value):", "    out = {}"]
    for f in fields(kind):
        name = f.name
        rule = field_rule(name)
        lines += [
            f"    item = value.{name}",
            "    kind = type(item)",
            "    if kind is str:",
            f"        out[{name!r}] = item",
            "    elif kind is tuple or kind is list:",
            f"        if {rule.sequence}:",
            f"            out[{name!r}] = [v if type(v) is str else plain(v) for v in item]",
            "    elif item is None:",
            f"        {rule.none}",
            "    else:",
            "        convert = get(kind)",
            "        if convert is _enum:",
            f"            out[{name!r}] = item._value_",
            "        elif convert is _date:",
            f"            out[{name!r}] = item.isoformat()",
            f"        elif {rule.other}:",
            f"            out[{name!r}] = plain(item)",
        ]
    lines.append("    return out")
    namespace: dict[str, Any] = {
        "plain": plain,
        "get": _CONVERTERS.get,
        "_enum": _enum,
        "_date": _date,
    }
    # source built from the class's own field names, compiled once per machine (``code_cache``)
    exec(compiled("\n".join(lines)), namespace)
    converter: Converter = namespace["convert"]
    return converter


_CONVERTERS: dict[type, Converter] = {}
