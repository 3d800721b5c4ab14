"""HTML form fields ↔ the case format: input names *are* case paths (``patient.weight_kg``,
``observations[2].value``), so that every problem the case parser reports lands on its input.

Empty inputs and empty repeated rows are dropped; the rows kept are renumbered, and ``Remap``
turns the parser's paths back into the form's row numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Remap", "errors_by_field", "form_to_raw", "raw_to_form"]

_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")
#: Inputs whose text is a comma-separated list in the case format.
LIST_FIELDS = frozenset(
    {
        "findings",
        "intolerances",
        "manifestations",
        "organs",
        "mutations",
        "genes_tested",
        "co_medications",
        "hsct_risk",
    }
)
#: Inputs whose text is a number in the case format (the parser refuses numbers as text).
NUMBER_FIELDS = frozenset(
    {
        "age_years",
        "creatinine",
        "weight_kg",
        "height_cm",
        "birth_weight_kg",
        "fetuses",
        "fetus",
        "value",
        "bowel_grade",
        "placenta_mm",
        "ventricle_mm",
        "cisterna_magna_mm",
        "head_circumference_sd",
        "dose_mg",
        "dose_mg_per_kg",
        "every_h",
        "zone",
        "hours_after_dose",
        "threshold_db",
    }
)
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
#: Checkbox inputs (a present checkbox is true).
BOOL_FIELDS = frozenset(
    {
        "amniocentesis_declined",
        "can_take_oral",
        "icu",
        "allogeneic",
        "on_art",
        "active",
        "sight_threatening",
    }
)


@dataclass
class Remap:
    """Form row number of each kept row, per list: ``{"observations": {0: 2, 1: 5}}``."""

    rows: dict[str, dict[int, int]] = field(default_factory=dict)

    def to_form(self, path: str) -> str:
        """``observations[0].value`` → ``observations[2].value`` (the row the user typed in)."""

        def back(match: re.Match[str]) -> str:
            name, index = match.group(1), match.group(2)
            if index is None or name not in self.rows:
                return match.group(0)
            return f"{name}[{self.rows[name].get(int(index), int(index))}]"

        return _PART.sub(back, path)


def form_to_raw(form: Iterable[tuple[str, str]]) -> tuple[dict[str, Any], Remap]:
    """The case mapping of a submitted form, and how its rows map back to the form's."""
    raw: dict[str, Any] = {}
    for name, value in form:
        text = value.strip()
        if text == "" or name.startswith("_"):
            continue
        leaf = name.rsplit(".", 1)[-1]
        parsed: Any = text
        if leaf in LIST_FIELDS:
            parsed = [item.strip() for item in text.split(",") if item.strip()]
        elif leaf in BOOL_FIELDS:
            parsed = text.lower() in ("on", "true", "1", "yes")
        elif leaf in NUMBER_FIELDS:
            parsed = _number(text.replace(",", "."))
        _put(raw, name, parsed)
    remap = Remap()
    _compact(raw, remap)
    return raw, remap


def _number(text: str) -> Any:
    """Form text as a JSON number (``3,2`` is accepted as ``3.2``); other text is left for the
    parser to refuse with its message."""
    if _INTEGER.match(text):
        return int(text)
    if _DECIMAL.match(text):
        return float(text)
    return text


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    parts = _PART.findall(path)
    node: Any = target
    for i, (name, index) in enumerate(parts):
        last = i == len(parts) - 1
        if index == "":
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
        else:
            rows = node.setdefault(name, {})  # dict of row number → row until compacted
            row = rows.setdefault(int(index), {} if not last else value)
            if last:
                rows[int(index)] = value
            node = row


def _compact(node: Any, remap: Remap, prefix: str = "") -> None:
    """Turn ``{row: {...}}`` dicts into lists in row order, recording original row numbers."""
    if not isinstance(node, dict):
        return
    for key, value in list(node.items()):
        if isinstance(value, dict) and value and all(isinstance(k, int) for k in value):
            ordered = sorted(value.items())
            node[key] = [row for _, row in ordered]
            if not prefix:
                remap.rows[key] = {new: old for new, (old, _) in enumerate(ordered)}
            for row in node[key]:
                _compact(row, remap, prefix=f"{prefix}{key}.")
        else:
            _compact(value, remap, prefix=f"{prefix}{key}.")


def errors_by_field(problems: Iterable[Mapping[str, str]], remap: Remap) -> dict[str, list[str]]:
    """Messages per form input name (``(case)`` for those that name no input)."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        name = remap.to_form(problem["field"])
        found.setdefault(name, []).append(problem["message"])
    return found


def raw_to_form(raw: Mapping[str, Any]) -> dict[str, str]:
    """The form's values of a case mapping (the inverse of ``form_to_raw``), to edit a case.

    Lists of words become comma-separated text, yes/no become ``yes``/``no``; the rows keep
    their order."""
    values: dict[str, str] = {}

    def walk(value: Any, path: str) -> None:
        leaf = path.rsplit(".", 1)[-1]
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list | tuple) and leaf in LIST_FIELDS:
            values[path] = ", ".join(str(v) for v in value)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")
        elif isinstance(value, bool):
            values[path] = "yes" if value else "no"
        elif value is not None:
            values[path] = str(value)

    walk(raw, "")
    return values
