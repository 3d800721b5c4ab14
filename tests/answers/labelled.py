"""Scoring of `cmvcds ask` on the labelled question set (``labelled.yaml``, issue 19).

Three figures, as the issue defines them:
- top-1 "In short" correct: the statement the summary repeats matches one of the question's
  ``top`` patterns, and the answer is in the language asked;
- required statements present: the share of ``must`` patterns found among the statements shown,
  with none of the ``must_not`` patterns shown (a forbidden statement fails the question);
- off-topic refused: every ``off_topic`` question gets ``covered: false``.
Patterns are fnmatch patterns over statement ids. The engine is asked with the audience the
reader would choose on the page; whether it would have inferred that audience is a fourth figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

LABELLED = Path(__file__).parent / "labelled.yaml"


def labelled_set() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    return data


def shown_ids(document: dict[str, Any]) -> list[str]:
    return [s["id"] for section in document["sections"] for s in section["statements"]]


def summary_id(document: dict[str, Any]) -> str | None:
    """The statement the "In short" repeats (the summary is a lead followed by its text)."""
    summary = document["summary"]
    for section in document["sections"]:
        for statement in section["statements"]:
            if summary.endswith(statement["text"]):
                return str(statement["id"])
    return None


def matches(patterns: list[str], ids: list[str]) -> list[str]:
    return [p for p in patterns if any(fnmatchcase(i, p) for i in ids)]


@dataclass
class Outcome:
    question: str
    top_ok: bool
    must_found: int
    must_total: int
    forbidden: list[str]
    language_ok: bool
    audience_ok: bool
    summary_id: str | None
    shown: list[str] = field(default_factory=list)

    @property
    def required_ok(self) -> bool:
        return self.must_found == self.must_total and not self.forbidden


def judge(case: dict[str, Any], document: dict[str, Any]) -> Outcome:
    ids = shown_ids(document) if document["covered"] else []
    top = summary_id(document) if document["covered"] else None
    language = document["understood"].get("language")
    inferred = document["understood"].get("audience")
    forbidden = [i for i in ids if any(fnmatchcase(i, p) for p in case.get("must_not", []))]
    return Outcome(
        question=case["q"],
        top_ok=top is not None
        and any(fnmatchcase(top, p) for p in case["top"])
        and language == case["lang"],
        must_found=len(matches(case["must"], ids)),
        must_total=len(case["must"]),
        forbidden=forbidden,
        language_ok=language == case["lang"],
        audience_ok=inferred == case["audience"],
        summary_id=top,
        shown=ids,
    )


@dataclass
class Score:
    outcomes: list[Outcome]
    refused: int
    off_topic: int

    def figures(self) -> dict[str, float]:
        n = len(self.outcomes)
        must_total = sum(o.must_total for o in self.outcomes)
        return {
            "questions": n,
            "top1": sum(o.top_ok for o in self.outcomes) / n,
            "required_present": sum(o.must_found for o in self.outcomes) / must_total,
            "no_forbidden": sum(not o.forbidden for o in self.outcomes) / n,
            "required_ok": sum(o.required_ok for o in self.outcomes) / n,
            "language": sum(o.language_ok for o in self.outcomes) / n,
            "audience_inferred": sum(o.audience_ok for o in self.outcomes) / n,
            "off_topic_refused": self.refused / self.off_topic,
        }


def score(ask: Any, data: dict[str, Any] | None = None) -> Score:
    """Ask every question of the set with ``ask(question, audience)`` and judge the answers."""
    data = data or labelled_set()
    outcomes = [judge(c, ask(c["q"], c["audience"])) for c in data["questions"]]
    refused = sum(not ask(c["q"], "clinician")["covered"] for c in data["off_topic"])
    return Score(outcomes, refused, len(data["off_topic"]))
