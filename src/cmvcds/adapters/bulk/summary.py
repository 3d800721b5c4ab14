"""The summary of a bulk run: cases assessed and refused, decisions per outcome, alerts per code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cmvcds.adapters.bulk.worker import Outcome

__all__ = ["Summary"]


@dataclass
class Summary:
    """Counts only, so that it stays the same size whatever the number of cases."""

    assessed: int = 0
    errors: int = 0
    decisions: Counter[tuple[str, str]] = field(default_factory=Counter)
    alerts: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        if outcome.error:
            self.errors += 1
            return
        self.assessed += 1
        self.decisions.update(outcome.decisions)
        self.alerts.update(outcome.alerts)

    def to_dict(self) -> dict[str, Any]:
        """``cmvcds-bulk-summary/1``: decisions as ``{decision: {outcome: n}}``, alerts by code."""
        decisions: dict[str, dict[str, int]] = {}
        for (decision, outcome), n in sorted(self.decisions.items()):
            decisions.setdefault(decision, {})[outcome] = n
        return {
            "format": "cmvcds-bulk-summary/1",
            "lines": self.assessed + self.errors,
            "assessed": self.assessed,
            "errors": self.errors,
            "decisions": decisions,
            "alerts": dict(sorted(self.alerts.items())),
        }

    def to_text(self) -> str:
        """The same counts as a plain table, for a terminal."""
        out = [
            f"{self.assessed + self.errors:,} lines: {self.assessed:,} assessed, "
            f"{self.errors:,} refused (see their cmvcds-bulk-error/1 lines)",
            "",
        ]
        out.append(f"{'decision':<40} {'outcome':<28} {'count':>9}")
        for (decision, outcome), n in sorted(self.decisions.items()):
            out.append(f"{decision:<40} {outcome:<28} {n:>9,}")
        out += ["", f"{'alert (every occurrence)':<69} {'count':>9}"]
        for code, n in sorted(self.alerts.items()):
            out.append(f"{code:<69} {n:>9,}")
        return "\n".join(out) + "\n"
