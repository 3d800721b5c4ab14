"""The answer tables are checked when the engine is built: every concept a statement names is in
the vocabulary, every template has its generator; without the embedding model, BM25 alone
answers and says so."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from cmvcds.engine.answers import AnswerEngine
from cmvcds.errors import KnowledgeError
from cmvcds.knowledge import DEFAULT_PACK, load_knowledge


def edited_pack(tmp_path: Path, file: str, edit: str, replacement: str) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    path = pack / "answers" / file
    text = path.read_text(encoding="utf-8")
    assert edit in text
    path.write_text(text.replace(edit, replacement, 1), encoding="utf-8")
    return pack


def test_a_statement_naming_an_unknown_population_is_refused(tmp_path: Path) -> None:
    pack = edited_pack(
        tmp_path, "statements.yaml", "populations: [immunocompetent]", "populations: [martians]"
    )
    with pytest.raises(
        KnowledgeError, match=r"names \['martians'\] not in answers/vocabulary.yaml"
    ):
        AnswerEngine(load_knowledge(pack))


def test_a_template_without_a_generator_is_refused(tmp_path: Path) -> None:
    pack = edited_pack(tmp_path, "templates.yaml", "- id: drug-checks", "- id: drug-horoscope")
    with pytest.raises(KnowledgeError, match=r"drug-horoscope.* has no generator"):
        AnswerEngine(load_knowledge(pack))


def test_a_statement_citing_an_unknown_source_is_refused_by_the_loader(tmp_path: Path) -> None:
    pack = edited_pack(
        tmp_path,
        "statements.yaml",
        "citations: [rafailidis2008-virolj-severe-cmv]",
        "citations: [nobody2099-made-up]",
    )
    with pytest.raises(KnowledgeError, match="unknown source id 'nobody2099-made-up'"):
        load_knowledge(pack)


def test_bm25_alone_answers_and_says_so(bm25_engine: AnswerEngine) -> None:
    document = bm25_engine.ask("What are the side effects of foscarnet?")
    assert document["covered"]
    assert (
        document["understood"]["method"]
        == "SQLite FTS5 BM25 only (no sentence-embedding model installed)"
    )


def test_the_shipped_statements_are_paraphrases_with_their_review_record() -> None:
    raw = yaml.safe_load((DEFAULT_PACK / "answers" / "statements.yaml").read_text(encoding="utf-8"))
    statements = raw["statements"]
    assert len(statements) >= 60
    kinds = {s["kind"] for s in statements}
    assert kinds == {"guideline", "label", "research"}
    for statement in statements:
        assert "review" in statement and statement["review"]["status"] in (
            "draft",
            "under_review",
            "approved",
        )
        assert statement["locator"]
