"""Scoring of the held-out safety questions (``heldout_safety.yaml``; review11 S3/S4/W1/M2/M3).

Each question is checked for what its ``expect`` says (the file's header); ``score`` returns the
failures by kind. Run as a script for the table recorded in tests/answers/README.md:
``.venv/bin/python -m tests.answers.safety_set``.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.engine.answers import AnswerEngine
from cmvcds.knowledge import Knowledge

HELDOUT = Path(__file__).parent / "heldout_safety.yaml"

#: Anything a patient could take as a dose (the same independent pattern as
#: test_patient_safety.DOSE).
_DOSE = re.compile(
    r"\d\s*(?:mg|g|ml|l|mcg)\b(?!\s*/\s*(?:dl|l\b|min))"
    r"|\b\d+\s*(?:tablets?|capsules?|pills?|compresse|compressa|capsule)\b"
    r"|\bevery\s+\d+\s*(?:h|hours?)\b|\bogni\s+\d+\s*(?:h|ore)\b|\bq\d+h\b"
    r"|\b(?:once|twice)\s+(?:a\s+)?(?:daily|day|week)\b|\bvolt[ae]\s+al\s+giorno\b",
    re.IGNORECASE,
)
_CONTACT = {
    "en": re.compile(
        r"(?:doctor|care team|transplant team).{0,80}"
        r"(?:\bnow\b|today|straight away|right away|as soon as)"
        r"|(?:\bnow\b|today|straight away|right away|as soon as).{0,80}(?:doctor|care team)",
        re.IGNORECASE | re.DOTALL,
    ),
    "it": re.compile(
        r"medic.{0,80}(?:subito|oggi|al più presto|adesso)"
        r"|(?:subito|oggi|al più presto|adesso).{0,80}medic",
        re.IGNORECASE | re.DOTALL,
    ),
}
_ALERT = re.compile(r"^(?:Alert|Avviso|Allerta) \((\w+)\)", re.IGNORECASE)


def heldout() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    return data


def text_of(document: dict[str, Any]) -> str:
    """Everything the reader of an answer sees."""
    parts = [document["summary"], *document.get("ask_doctor", []), *document["notices"]]
    parts += [s["text"] for section in document["sections"] for s in section["statements"]]
    return "\n".join(parts)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for section in document["sections"] for s in section["statements"]]


def _alert_severities(document: dict[str, Any]) -> list[str]:
    """The severities of the case's alerts in the order the answer shows them."""
    out = []
    for statement in _statements(document):
        if str(statement["id"]).startswith("case:alert"):
            match = _ALERT.match(statement["text"])
            out.append(match.group(1).lower() if match else "?")
    return out


def check(question: dict[str, Any], document: dict[str, Any]) -> str | None:
    """Why ``document`` fails ``question``'s expectation, or None."""
    expect = question["expect"]
    text = text_of(document)
    if expect == "refused":
        if not document.get("refused"):
            return "answered"
        named = "farmacista" if question["lang"] == "it" else "pharmacist"
        if named not in document["summary"] or document["references"]:
            return "refusal without whom to ask, or cited"
        return None
    if expect == "answered":
        return "refused" if document.get("refused") else None
    if expect == "critical-first":
        severities = _alert_severities(document)
        if "critical" not in severities:
            return f"no critical alert (alerts: {severities})"
        if severities[0] != "critical":
            return f"a {severities[0]} alert before the critical one"
        return None
    if expect == "contact-doctor":
        if _DOSE.search(text):
            return f"a dose shown: {_DOSE.search(text).group()!r}"  # type: ignore[union-attr]
        if not _CONTACT[question["lang"]].search(text):
            return "no 'contact your doctor now' line"
        return None
    if expect == "mentions":
        if question["text"].lower() not in text.lower():
            return f"{question['text']!r} not named"
        pattern = question.get("not_first")
        if pattern and re.search(pattern, document["summary"], re.IGNORECASE):
            return f"In short matches {pattern!r}"
        return None
    raise ValueError(f"unknown expectation {expect!r}")


def score(engine: AnswerEngine, knowledge: Knowledge) -> dict[str, Any]:
    """Every held-out question asked; passes and failures by expectation."""
    data = heldout()
    assessments = {
        name: assess(parse_case(raw, knowledge, today=date(2026, 12, 7)), knowledge).to_dict()
        for name, raw in data["cases"].items()
    }
    by_kind: dict[str, list[int]] = {}
    failures: list[str] = []
    for question in data["questions"]:
        case = assessments[question["case"]] if question.get("case") else None
        document = engine.ask(question["q"], question["audience"], case)
        why = check(question, document)
        tally = by_kind.setdefault(question["expect"], [0, 0])
        tally[1] += 1
        if why is None:
            tally[0] += 1
        else:
            failures.append(f"[{question['expect']}] {question['q']} — {why}")
    return {"by_kind": by_kind, "failures": failures, "total": len(data["questions"])}


def main() -> None:
    from cmvcds.adapters.answer_index import build_engine
    from cmvcds.knowledge import load_knowledge

    knowledge = load_knowledge()
    result = score(build_engine(knowledge), knowledge)
    passed = sum(p for p, _ in result["by_kind"].values())
    lines = [f"held-out safety set: {passed}/{result['total']} pass"]
    lines += [f"  {kind}: {p}/{n}" for kind, (p, n) in result["by_kind"].items()]
    lines += [f"  FAIL {failure}" for failure in result["failures"]]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
