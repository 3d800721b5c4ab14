"""Full references for every source an answer can cite (issue 19, item 5): authors, title, year
and a DOI or URL. A reference that still lacks one of them is flagged in the answer itself
("reference incomplete: ..."), and the list below is the whole of those gaps: a new source
without its full reference fails here."""

from __future__ import annotations

from cmvcds.engine.answers import AnswerEngine
from cmvcds.engine.answers.compose import _incomplete

#: Sources whose missing parts could not be found from here (see each source's note).
KNOWN_GAPS = {
    "cmi2023-oral-antivirals-transplant": ["authors"],
    "ijid2020-valganciclovir-resistance-infants": ["authors"],
    "infezmed2021-letter-valacyclovir-648": ["authors", "DOI/URL"],
}


def test_every_cited_source_has_a_full_reference_or_is_a_known_gap(engine: AnswerEngine) -> None:
    sources = engine.knowledge.sources
    gaps = {}
    for source_id in sorted({c for item in engine.items for c in item.citations}):
        source = sources[source_id]
        url = source.url or (f"https://doi.org/{source.doi}" if source.doi else None)
        if missing := _incomplete(source, url):
            gaps[source_id] = missing
    assert gaps == KNOWN_GAPS


def test_no_reference_is_a_seed_number(engine: AnswerEngine) -> None:
    for question in (
        "Qual è la terapia dell'infezione da CMV in gravidanza?",
        "Dose of valganciclovir?",
    ):
        for ref in engine.ask(question)["references"]:
            assert "(seed" not in ref["citation"].lower(), ref


def test_an_incomplete_reference_is_flagged_in_the_answer(engine: AnswerEngine) -> None:
    answer = engine.ask("Valacyclovir in the Law 648/96 list: which pregnant women are eligible?")
    flagged = {r["id"]: r["incomplete"] for r in answer["references"] if r["incomplete"]}
    assert all(flagged[k] == KNOWN_GAPS[k] for k in flagged)
    assert all(not r["incomplete"] for r in answer["references"] if r["id"] not in KNOWN_GAPS)
