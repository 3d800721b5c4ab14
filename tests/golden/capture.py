"""A pytest plugin that records every case the tests assess, to be replayed by the golden test.

Loaded only by ``tools/golden_record.py`` (``-p tests.golden.capture``), never by the suite. It
wraps ``parse_case`` and ``assess`` at import time, before the test modules bind them, and writes
one JSON line per distinct input to ``$CMVCDS_GOLDEN_CAPTURE``: the raw case as given to the
parser, the parser's ``today``, the assessment date and the site settings. Only cases parsed
against the shipped pack are kept (tests that edit the pack assess other knowledge). Nothing the
tests see changes: the wrappers return what the real functions return.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import json
import os
from datetime import date
from typing import Any

import cmvcds.domain.case as case_module
from cmvcds.knowledge import load_knowledge
from tests.golden.codec import encode

#: The module, not the package attribute of the same name (``cmvcds.assess`` the function).
assess_module = importlib.import_module("cmvcds.assess")
_OUT = os.environ.get("CMVCDS_GOLDEN_CAPTURE", "")
_SHIPPED = load_knowledge().sha256
_parse_case = case_module.parse_case
_assess = assess_module.assess
#: id(case) → (case kept alive, encoded raw input, today).
_parsed: dict[int, tuple[Any, Any, date]] = {}
_seen: set[str] = set()


def _write(record: dict[str, Any]) -> None:
    line = json.dumps(record, sort_keys=True)
    if line in _seen or not _OUT:
        return
    _seen.add(line)
    with open(_OUT, "a", encoding="utf-8") as out:
        out.write(line + "\n")


def parse_case(raw: Any, knowledge: Any, *, today: date) -> Any:
    kept = copy.deepcopy(raw)
    case = _parse_case(raw, knowledge, today=today)
    if getattr(knowledge, "sha256", None) == _SHIPPED:
        try:
            _parsed[id(case)] = (case, encode(kept), today)
            _write({"case": encode(kept), "today": today.isoformat(), "on": None, "settings": None})
        except TypeError:
            pass
    return case


def assess(case: Any, knowledge: Any, on: date | None = None, settings: Any = None) -> Any:
    result = _assess(case, knowledge, on, settings)
    known = _parsed.get(id(case))
    if known is not None and known[0] is case and getattr(knowledge, "sha256", None) == _SHIPPED:
        with contextlib.suppress(TypeError):
            _write(
                {
                    "case": known[1],
                    "today": known[2].isoformat(),
                    "on": on.isoformat() if on else None,
                    "settings": None
                    if settings is None
                    else {"values": encode(dict(settings.values)), "origin": settings.origin},
                }
            )
    return result


case_module.parse_case = parse_case  # type: ignore[assignment]
assess_module.assess = assess  # type: ignore[assignment]
