"""Inputs of the golden comparison as JSON that reads back to the same Python values.

A case may hold dates, Decimals and tuples (YAML gives dates; tests build tuples); plain JSON
would turn them into strings or lists and the parser might then read them differently. Tagged
objects (``{"$date": ...}``, ``{"$decimal": ...}``, ``{"$tuple": [...]}``) keep them exact.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data with its dates, datetimes, Decimals and tuples tagged."""
    if isinstance(value, bool) or value is None or isinstance(value, int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"non-text keys in {value!r}")
        return {k: encode(v) for k, v in value.items()}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(value: Any) -> Any:
    """The inverse of ``encode``."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "$date":
                return date.fromisoformat(inner)
            if key == "$datetime":
                return datetime.fromisoformat(inner)
            if key == "$decimal":
                return Decimal(inner)
            if key == "$tuple":
                return tuple(decode(v) for v in inner)
        return {k: decode(v) for k, v in value.items()}
    return value
