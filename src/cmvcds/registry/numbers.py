"""Numbers typed into a CRF: REDCap's patterns, one decimal separator per page language.

probe12 finding 3: an integer field took "8.000", "8000.0", "1e3", "8_000" and Arabic-Indic
digits, stored them as typed and exported them raw, and on the Italian page the registry's own
dose check read "8.000" (eight thousand, as Italians write it) as 8 mg: a 1000-fold dose error.

The rules (ADR 0032-fix12):

- ``integer`` (and ``slider``): REDCap's pattern ``^(-?\\d+|)$`` (linkml-redcap
  ``RedcapInteger``; TextValidationType "integer: Whole number (no decimals)") over ASCII
  digits only, after trimming. No sign "+", no separator of any kind, no exponent.
- ``number`` and ``number_Ndp``: REDCap's ``^(-?\\d+(\\.\\d+)?|)$`` (``RedcapNumber``),
  exactly N decimals for ``number_Ndp``. The decimal separator typed is the page language's
  (``DECIMAL``): the point in English, the comma in Italian; the other mark is refused (it
  would be a thousands separator: never guessed). Stored with a point, as REDCap stores
  ``number``; ``*_comma_decimal`` types are stored with a comma, as REDCap stores them.
- The stored value is canonical (``canonical``): leading zeros dropped, "-0" is "0"; the
  soft checks (the dose check) and the exports read that value.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["DECIMAL", "NUMERIC_KINDS", "as_typed", "canonical", "is_numeric", "parse_stored"]

#: The decimal separator a person types on a page in each language.
DECIMAL = {"en": ".", "it": ","}
_DIGITS = re.compile(r"-?[0-9]+", re.ASCII)
_DP = re.compile(r"number_(?P<dp>[1-4])dp(?P<comma>_comma_decimal)?")
NUMERIC_KINDS = frozenset(
    {"integer", "number", "number_comma_decimal"}
    | {f"number_{n}dp{c}" for n in range(1, 5) for c in ("", "_comma_decimal")}
)


def is_numeric(kind: str, field_type: str = "text") -> bool:
    """Whether a field of validation ``kind`` (or a slider) takes a number."""
    return kind in NUMERIC_KINDS or field_type == "slider"


def canonical(kind: str, value: str, decimal: str = ".") -> tuple[str | None, str | None]:
    """``(stored value, None)`` or ``(None, message)`` for ``value`` typed into a field of
    validation ``kind`` on a page whose decimal separator is ``decimal``."""
    text = value.strip()
    if kind == "integer" or kind == "slider":
        if _DIGITS.fullmatch(text):
            return str(int(text)), None
        if re.fullmatch(r"-?[0-9]{1,3}([.,' _][0-9]{3})+", text, re.ASCII):
            return (
                None,
                "not a whole number: write the digits only, no thousands separator (e.g. 8000)",
            )
        return None, "not a whole number (digits only, e.g. 8000)"
    other = "," if decimal == "." else "."
    whole, mark, fraction = text.partition(decimal)
    if (
        other in text
        or not _DIGITS.fullmatch(whole)
        or (mark and not fraction.isascii())
        or (mark and not fraction.isdigit())
    ):
        example = "0" + decimal + "9"
        return None, (
            f"not a number: the decimal separator is {decimal!r} "
            f"(e.g. {example}) and thousands separators are not allowed"
        )
    dp = _DP.fullmatch(kind)
    if dp and len(fraction) != int(dp["dp"]):
        return None, f"needs exactly {dp['dp']} decimals (e.g. 0{decimal}{'5' * int(dp['dp'])})"
    number = Decimal(f"{whole}.{fraction}" if mark else whole)
    stored = format(number, "f")
    if stored.startswith("-") and number == 0:
        stored = stored[1:]
    return (stored.replace(".", ",") if kind.endswith("comma_decimal") else stored), None


def parse_stored(kind: str, value: str) -> Decimal:
    """A stored (canonical) value as a number."""
    return Decimal(value.replace(",", ".") if kind.endswith("comma_decimal") else value)


def as_typed(kind: str, stored: str, decimal: str) -> str:
    """A stored value as a person types it on a page whose decimal separator is ``decimal``
    (what the form shows: saved again unchanged, it is the same stored value)."""
    if kind not in NUMERIC_KINDS or kind == "integer" or not stored:
        return stored
    return stored.replace("," if kind.endswith("comma_decimal") else ".", decimal)
