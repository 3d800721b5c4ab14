"""A case edit saved from a stale form (probe 1, D6): what changed meanwhile, and the editor's
own changes re-applied on the latest version, for them to check and save again.

The form carries the version it was opened from (``_base_version``). Values are compared as
the form shows them (``forms.raw_to_form``). Rows the editor added to a list (an index past the
rows of the version they opened) go after the latest version's rows, so two people who each
add a result both keep theirs. A field of the opened version the form no longer sends (a row
the editor deleted, a box unchecked) is a change of the editor's too: listed with theirs and
applied as emptied, never dropped in favour of the latest version's value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["BASE_FIELD", "Reapplied", "base_version", "reapply"]

BASE_FIELD = "_base_version"
_ROW = re.compile(r"^(?P<list>[\w.]+)\[(?P<index>\d+)\](?P<rest>.*)$")


@dataclass(frozen=True)
class Reapplied:
    """The latest version's values with the editor's changes on top, and what differs."""

    values: dict[str, str]
    theirs: list[tuple[str, str, str]]  # changed by others since the form was opened
    mine: list[tuple[str, str, str]]  # the editor's changes (field, opened as, typed)


def base_version(values: Mapping[str, str]) -> int | None:
    """The version the form was opened from; None for a form without one (or unreadable)."""
    text = values.get(BASE_FIELD, "").strip()
    return int(text) if text.isdigit() else None


def _row_counts(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in values:
        if match := _ROW.match(name):
            index = int(match["index"]) + 1
            counts[match["list"]] = max(counts.get(match["list"], 0), index)
    return counts


def _changes(before: Mapping[str, str], after: Mapping[str, str]) -> list[tuple[str, str, str]]:
    names = sorted(set(before) | set(after))
    return [
        (n, before.get(n, ""), after.get(n, ""))
        for n in names
        if before.get(n, "") != after.get(n, "")
    ]


def reapply(
    opened: Mapping[str, str], latest: Mapping[str, str], typed: Mapping[str, str]
) -> Reapplied:
    """``typed`` (the submitted form) was opened as ``opened``; ``latest`` is the case now."""
    mine_typed = {k: v for k, v in typed.items() if not k.startswith("_")}
    mine_typed |= {k: "" for k in opened if not k.startswith("_") and k not in typed}  # deleted
    mine = [
        (n, opened.get(n, ""), v) for n, v in sorted(mine_typed.items()) if opened.get(n, "") != v
    ]
    opened_rows, latest_rows = _row_counts(opened), _row_counts(latest)
    values = dict(latest)
    added: dict[tuple[str, int], int] = {}  # (list, typed index) → index after the latest rows
    for name, _old, new in mine:
        match = _ROW.match(name)
        if match and int(match["index"]) >= opened_rows.get(match["list"], 0):
            rows, index = match["list"], int(match["index"])
            if (rows, index) not in added:
                added[(rows, index)] = latest_rows.get(rows, 0) + sum(
                    1 for r, _ in added if r == rows
                )
            name = f"{rows}[{added[(rows, index)]}]{match['rest']}"
        values[name] = new
    values.update({k: v for k, v in typed.items() if k.startswith("_")})
    return Reapplied(values=values, theirs=_changes(opened, latest), mine=mine)
