"""Generated statements that list what the resistance table holds (issue 19, item 6): asked which
mutations confer resistance to a drug, the answer lists every single mutation of each gene whose
level the resistance report would call low, moderate or high - checked against the report itself
(`cmvcds resistance`) run on each listed mutation, not against a hand-picked list."""

from __future__ import annotations

import re

import pytest

from cmvcds.engine.answers import AnswerEngine
from cmvcds.engine.resistance import interpret_mutations
from cmvcds.knowledge import Knowledge


def _lists(answer: dict[str, object]) -> dict[str, str]:
    return {
        s["id"]: s["text"]
        for sec in answer["sections"]  # type: ignore[attr-defined]
        for s in sec["statements"]
        if s["id"].startswith("resistance-mutations:")
    }


def _levels(text: str) -> dict[str, list[str]]:
    out = {}
    for level in ("high level", "moderate", "low level"):
        found = re.search(rf"{level}: ([^;.]*)", text)
        assert found, (level, text)
        out[level] = [] if found.group(1) == "none" else found.group(1).split(", ")
    return out


@pytest.mark.parametrize(
    ("question", "drug", "gene"),
    [
        ("Which UL97 mutations confer ganciclovir resistance?", "ganciclovir", "UL97"),
        ("Which mutations cause maribavir resistance in UL27?", "maribavir", "UL27"),
        ("Which UL56 mutations make letermovir resistant?", "letermovir", "UL56"),
    ],
)
def test_the_list_is_what_the_report_calls_for_each_mutation(
    engine: AnswerEngine, knowledge: Knowledge, question: str, drug: str, gene: str
) -> None:
    answer = engine.ask(question)
    lists = _lists(answer)
    text = lists[f"resistance-mutations:{drug}:{gene}"]
    assert list(lists) == [f"resistance-mutations:{drug}:{gene}"]  # only the gene asked
    levels = _levels(text)
    expected = {"high level": "high", "moderate": "moderate", "low level": "low"}
    listed = [m for names in levels.values() for m in names]
    assert int(re.search(r"(\d+) single", text).group(1)) == len(listed)  # type: ignore[union-attr]
    for label, names in levels.items():
        for name in names[:8]:  # each listed mutation, run through the resistance report
            report = interpret_mutations([f"{gene}:{name}"], None, knowledge).to_dict()
            call = report["drugs"][drug]
            assert call["level"] == expected[label], (name, call["level"])


def test_valganciclovir_lists_ganciclovir_phenotypes_and_both_genes(engine: AnswerEngine) -> None:
    lists = _lists(engine.ask("Quali mutazioni danno resistenza al valganciclovir?"))
    assert set(lists) == {
        "resistance-mutations:valganciclovir:UL97",
        "resistance-mutations:valganciclovir:UL54",
    }
    assert all("Nella tabella delle resistenze" in t for t in lists.values())  # in Italian
    assert "M460V" in lists["resistance-mutations:valganciclovir:UL97"]


def test_a_question_without_a_drug_or_about_something_else_gets_no_list(
    engine: AnswerEngine,
) -> None:
    assert not _lists(engine.ask("Which genes are sequenced for CMV antiviral resistance?"))
    assert not _lists(engine.ask("What is the dose of ganciclovir at CrCl 40?"))
