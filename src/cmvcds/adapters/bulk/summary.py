"""The summary of a bulk run: cases assessed and refused, decisions per outcome, alerts per code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cmvcds.adapters.bulk.duplicates import SeenIds
from cmvcds.adapters.bulk.worker import Outcome, duplicate

__all__ = ["EXAMPLES", "Summary"]

#: Duplicates listed by the summary (all are counted, and each is said on its line).
EXAMPLES = 20


@dataclass
class Summary:
    """Counts only (and the first ``EXAMPLES`` duplicates), so that it stays the same size
    whatever the number of cases; the ids seen, for the duplicate check, in ``SeenIds``'
    bounded table."""

    assessed: int = 0
    errors: int = 0
    decisions: Counter[tuple[str, str]] = field(default_factory=Counter)
    alerts: Counter[str] = field(default_factory=Counter)
    #: Lines refused because an earlier assessed line had their case id (also in ``errors``).
    duplicates: int = 0
    #: The first of them: ``(case id, earlier line, line)``.
    duplicate_examples: list[tuple[str, int, int]] = field(default_factory=list)
    seen: SeenIds = field(default_factory=SeenIds, repr=False)

    def checked(self, outcome: Outcome) -> Outcome:
        """``outcome``, or its refusal when an earlier assessed line had its case id (call in
        input order, before ``add``)."""
        if outcome.error or outcome.case_id is None:
            return outcome
        earlier = self.seen.check(outcome.case_id, outcome.line, outcome.digest)
        if earlier is None:
            return outcome
        self.duplicates += 1
        if len(self.duplicate_examples) < EXAMPLES:
            self.duplicate_examples.append((outcome.case_id, earlier.line, outcome.line))
        return duplicate(outcome, earlier)

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
            "duplicates": {
                "lines": self.duplicates,
                "first": [
                    {"case_id": case_id, "line": line, "duplicate_of": earlier}
                    for case_id, earlier, line in self.duplicate_examples
                ],
                "ids_checked": self.seen.count,
                "complete": not self.seen.full,
            },
        }

    def to_text(self) -> str:
        """The same counts as a plain table, for a terminal."""
        out = [
            f"{self.assessed + self.errors:,} lines: {self.assessed:,} assessed, "
            f"{self.errors:,} refused (see their cmvcds-bulk-error/1 lines)",
            "",
        ]
        if self.duplicates:
            out.append(
                f"{self.duplicates:,} line(s) refused as duplicate case ids (each case is counted "
                "once; correct the input and run it again):"
            )
            out += [
                f"  case id {case_id!r}: line {line}, already on line {earlier}"
                for case_id, earlier, line in self.duplicate_examples
            ]
            if self.duplicates > len(self.duplicate_examples):
                out.append(f"  … and {self.duplicates - len(self.duplicate_examples):,} more")
            out.append("")
        if self.seen.full:
            out += [
                f"duplicate case ids were checked for the first {self.seen.count:,} ids only "
                f"(the limit of one run); later ids were not checked",
                "",
            ]
        out.append(f"{'decision':<40} {'outcome':<28} {'count':>9}")
        for (decision, outcome), n in sorted(self.decisions.items()):
            out.append(f"{decision:<40} {outcome:<28} {n:>9,}")
        out += ["", f"{'alert (every occurrence)':<69} {'count':>9}"]
        for code, n in sorted(self.alerts.items()):
            out.append(f"{code:<69} {n:>9,}")
        return "\n".join(out) + "\n"
