"""Prints the outside score (per context, and one line per mismatch) at the end of the run."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

_RESULTS: dict[str, tuple[str, list[str] | None]] = {}


@pytest.fixture
def outside_results() -> dict[str, tuple[str, list[str] | None]]:
    return _RESULTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _RESULTS:
        return
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for group, problems in _RESULTS.values():
        per[group][1] += 1
        if problems == []:
            per[group][0] += 1
    passed = sum(p for p, _ in per.values())
    total = sum(t for _, t in per.values())
    write = terminalreporter.write_line
    terminalreporter.section("outside vignettes score")
    write(f"engine agrees with the source: {passed} / {total}")
    for group in sorted(per):
        write(f"  {group:18s} {per[group][0]:3d} / {per[group][1]}")
    for name in sorted(_RESULTS):
        group, problems = _RESULTS[name]
        for line in problems or []:
            write(f"  FAIL {name}: {line}")
