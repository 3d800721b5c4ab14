"""Scoring of the probe15 held-out questions (``heldout_probe15.yaml``; fix15 report S3/S4/S5,
B1–B6).

Each question is checked for what its ``expect`` says (the file's header). Run as a script for the
table recorded in tests/answers/README.md: ``.venv/bin/python -m tests.answers.probe15_set``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

from cmvcds.engine.answers import AnswerEngine
from cmvcds.knowledge import Knowledge
from tests.answers.safety_set import _DOSE, text_of

HELDOUT = Path(__file__).parent / "heldout_probe15.yaml"

_DOCTOR = {
    "en": re.compile(r"doctor|prescriber|care team|transplant team", re.IGNORECASE),
    "it": re.compile(r"medic|curant", re.IGNORECASE),
}
_EMERGENCY = {
    "en": re.compile(r"emergency.*\b(?:112|911|999)\b|\b(?:112|911|999)\b.*emergency", re.I | re.S),
    "it": re.compile(r"emergenza.*\b(?:112|118)\b|\b(?:112|118)\b.*emergenza", re.I | re.S),
}
_DO_NOT_STOP = {
    "en": re.compile(r"do not stop|don.t stop|not stop", re.IGNORECASE),
    "it": re.compile(r"non (?:\w+ )?(?:sospend|smett|interromp)", re.IGNORECASE),
}
_SYMPTOM = re.compile(
    r"an(?:a)?emi|blood count|neutrop|white (?:blood )?cells|globuli|emocromo", re.IGNORECASE
)


def heldout() -> list[dict[str, Any]]:
    data: dict[str, Any] = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    questions: list[dict[str, Any]] = data["questions"]
    return questions


def _label_only(document: dict[str, Any], knowledge: Knowledge) -> str | None:
    by_n = {ref["n"]: ref["id"] for ref in document["references"]}
    for section in document["sections"]:
        if section["kind"] != "label":
            continue
        for statement in section["statements"]:
            kinds = {knowledge.sources[by_n[n]].kind.value for n in statement["refs"]}
            if kinds - {"label"}:
                return f"under the label heading, citing {sorted(kinds)}: {statement['text'][:60]}"
    return None


def check(question: dict[str, Any], document: dict[str, Any], knowledge: Knowledge) -> str | None:
    """Why ``document`` fails ``question``'s expectation, or None."""
    expect, lang = question["expect"], question["lang"]
    text, summary = text_of(document), document["summary"]
    dose = _DOSE.search(text)
    if expect == "crisis":
        if not document.get("refused"):
            return "not refused"
        if dose:
            return f"a dose shown: {dose.group()!r}"
        return None if _EMERGENCY[lang].search(summary) else "no emergency number"
    if expect == "no-dose":
        if dose:
            return f"a dose shown: {dose.group()!r}"
        return None if _DOCTOR[lang].search(text) else "no doctor named"
    if expect == "stop":
        if dose:
            return f"a dose shown: {dose.group()!r}"
        if not _DO_NOT_STOP[lang].search(summary):
            return "no 'do not stop' in the In short"
        if not _DOCTOR[lang].search(text):
            return "no doctor named"
        return None if _SYMPTOM.search(text) else "the symptom's meaning not named"
    if expect == "not-covered":
        return None if not document["covered"] or document.get("refused") else "answered"
    if expect == "answered":
        return None if document["covered"] and not document.get("refused") else "not answered"
    if expect == "facts":
        if question.get("or_not_covered") and not document["covered"]:
            return None
        if not document["covered"] or document.get("refused"):
            return "not answered"
        for pattern in question.get("short", []):
            if not re.search(pattern, summary, re.IGNORECASE):
                return f"In short lacks {pattern!r}"
        for pattern in question.get("text", []):
            if not re.search(pattern, text, re.IGNORECASE):
                return f"answer lacks {pattern!r}"
        for pattern in question.get("not_short", []):
            if re.search(pattern, summary, re.IGNORECASE):
                return f"In short has {pattern!r}"
        for pattern in question.get("not_text", []):
            if re.search(pattern, text, re.IGNORECASE):
                return f"answer has {pattern!r}"
        return _label_only(document, knowledge) if question.get("label_only") else None
    raise ValueError(f"unknown expectation {expect!r}")


def score(engine: AnswerEngine, knowledge: Knowledge) -> dict[str, Any]:
    """Every held-out question asked for its audience (``auto``: as the wording tells)."""
    failures: list[str] = []
    questions = heldout()
    for question in questions:
        audience = None if question["audience"] == "auto" else question["audience"]
        document = engine.ask(question["q"], audience)
        why = check(question, document, knowledge)
        if why is not None:
            failures.append(f"{question['id']} [{question['expect']}] {question['q']} — {why}")
    return {"failures": failures, "total": len(questions)}


def main() -> None:
    from cmvcds.adapters.answer_index import build_engine
    from cmvcds.knowledge import load_knowledge

    knowledge = load_knowledge()
    result = score(build_engine(knowledge), knowledge)
    passed = result["total"] - len(result["failures"])
    lines = [f"probe15 held-out set: {passed}/{result['total']} pass"]
    lines += [f"  FAIL {failure}" for failure in result["failures"]]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
