"""The test set: every question gets an answer with its facts and sources, or "not covered".

Each answer is also checked for the contract of design.md §6: every statement cites sources
that resolve in the bibliography and in the references of the answer, numbered in order.
"""

from __future__ import annotations

from typing import Any

import pytest

from cmvcds.engine.answers import AnswerEngine
from cmvcds.knowledge import Knowledge
from tests.answers.conftest import question_set

SET = question_set()
COVERED = SET["questions"]
NOT_COVERED = SET["not_covered"]


def answer_text(document: dict[str, Any]) -> str:
    texts = [document["summary"]]
    texts += [s["text"] for section in document["sections"] for s in section["statements"]]
    return "\n".join(texts)


def check_contract(document: dict[str, Any], knowledge: Knowledge) -> None:
    assert document["format"] == "cmvcds-answer/1"
    assert document["knowledge"] == knowledge.stamp()
    numbers = {r["id"]: r["n"] for r in document["references"]}
    assert sorted(numbers.values()) == list(range(1, len(numbers) + 1))
    first_use: list[str] = []
    for section in document["sections"]:
        assert section["statements"], "an empty section is left out"
        for statement in section["statements"]:
            assert statement["citations"], f"{statement['id']} cites nothing"
            for source_id in statement["citations"]:
                assert source_id in knowledge.sources
                assert source_id in numbers
                if source_id not in first_use:
                    first_use.append(source_id)
            assert statement["refs"] == [numbers[c] for c in statement["citations"]]
    assert [numbers[s] for s in first_use] == list(range(1, len(first_use) + 1))
    assert document["review"]["status"] in ("draft", "under_review", "approved")


def test_the_set_is_large_and_covers_both_languages_and_every_population() -> None:
    assert len(COVERED) + len(NOT_COVERED) >= 60
    assert {q["lang"] for q in COVERED} == {"en", "it"}
    assert sum(q["lang"] == "it" for q in COVERED) >= 10
    populations = {q["population"] for q in COVERED}
    assert populations >= {
        "general",
        "pregnancy",
        "congenital",
        "sot",
        "hsct",
        "transplant",
        "hiv",
        "immunocompromised",
        "immunocompetent",
        "critical-illness",
    }


@pytest.mark.parametrize("case", COVERED, ids=[q["q"][:60] for q in COVERED])
def test_question_is_answered_with_its_facts_and_sources(
    case: dict[str, Any], engine: AnswerEngine, knowledge: Knowledge
) -> None:
    document = engine.ask(case["q"])
    assert document["covered"], f"not covered; understood {document['understood']}"
    assert document["understood"]["language"] == case["lang"]
    text = answer_text(document)
    for fact in case["facts"]:
        assert fact in text, f"missing fact {fact!r} in:\n{text}"
    cited = {r["id"] for r in document["references"]}
    for source_id in case["cites"]:
        assert source_id in cited, f"missing citation {source_id}; cited {sorted(cited)}"
    check_contract(document, knowledge)
    assert document["follow_up"], "an answer offers follow-up questions"


@pytest.mark.parametrize("case", NOT_COVERED, ids=[q["q"][:60] for q in NOT_COVERED])
def test_question_outside_the_knowledge_is_not_covered(
    case: dict[str, Any], engine: AnswerEngine
) -> None:
    document = engine.ask(case["q"])
    assert not document["covered"]
    assert document["sections"] == [] and document["references"] == []
    refusal = {
        "en": "The cmvcds knowledge does not cover this question",
        "it": "La conoscenza di cmvcds non copre questa domanda",
    }
    assert document["summary"].startswith(refusal[case["lang"]])  # in the language asked
    assert len(document["follow_up"]) == 3


def test_follow_up_questions_are_themselves_answered(engine: AnswerEngine) -> None:
    """A follow-up or nearest question the answer offers is one the knowledge covers."""
    offered: set[str] = set()
    for case in COVERED[::4] + NOT_COVERED:
        offered.update(engine.ask(case["q"])["follow_up"])
    for question in sorted(offered):
        assert engine.ask(question)["covered"], question
