"""The Ask engine with its statement vectors prebuilt and cached, shared by the CLI and the web app.

Embedding every statement takes tens of seconds of CPU. The package ships the vectors of the
statements of its own knowledge pack (``adapters/data/answer-vectors-<model>.npz``, written by
``tools/build_ask_vectors.py`` and checked current by a test), so a fresh install answers its first
question without embedding anything. Vectors of texts the package does not hold (a site's own or an
edited pack) are computed once, with progress reported, and kept in ``$CMVCDS_CACHE_DIR`` (default
``$XDG_CACHE_HOME/cmvcds``, else ``~/.cache/cmvcds``; empty: no cache), one file per model, keyed by statement text: a changed statement is embedded
again and an unchanged one never is.

The built index itself (the statements generated from the tables, the compiled vocabulary, the
vector matrix, the FTS5 databases as SQLite images with their SHA-256) is cached beside them as
one pickle per model, headed by the SHA-256 of what it was built from (the pack's digest, the
model, the answer engine's source, the Python and SQLite versions): a later process restores it
instead of building it (−120 ms of a ``cmvcds ask``, and no FTS5 table filled again). A cache
whose key differs (another pack, changed statements or code) or that cannot be read (corrupt,
truncated, bytes that do not match the SHA-256 stored with them — ``checked_pickle`` — or an
FTS5 image that does not match its digest) is ignored and rebuilt; one that cannot
be written (a read-only ``$CMVCDS_CACHE_DIR``) is not kept: the index is built in each process.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

import cmvcds.engine.answers as answers_package
from cmvcds.engine.answers import AnswerEngine, default_embedder
from cmvcds.engine.answers.embedding import Embedder
from cmvcds.knowledge import Knowledge, checked_pickle
from cmvcds.knowledge.cache import cache_dir, code_digest

__all__ = [
    "build_engine",
    "index_key",
    "packaged_vectors_file",
    "read_index",
    "read_vectors",
    "write_index",
    "write_vectors",
]

#: Texts embedded per step when progress is reported.
_BATCH = 16


def _tag(model: str) -> str:
    return hashlib.sha256(model.encode()).hexdigest()[:16]


def _cache_dirs() -> list[Path]:
    """The one cache folder of the pack cache (``knowledge.cache.cache_dir``: ``$CMVCDS_CACHE_DIR``,
    else ``$XDG_CACHE_HOME/cmvcds``, else ``~/.cache/cmvcds``), or none when the variable is set
    empty. Never a second folder: an operator who gave the service a folder only it can write
    (a pickle is code) must not have pickles read from anywhere else."""
    root = cache_dir()
    return [] if root is None else [root]


def _cache_file(model: str) -> Path | None:
    """One file per model; it holds the vectors of the current statements, keyed by their text."""
    roots = _cache_dirs()
    return roots[0] / f"answer-vectors-{_tag(model)}.npz" if roots else None


def index_key(knowledge: Knowledge, model: str) -> str:
    """SHA-256 of what the built index depends on: the pack (its statements and tables), the
    code that builds the pack's objects (the index keeps some, and the Italian texts they give),
    the embedding model, the answer engine's source, the Python version and the SQLite version
    (the FTS5 images are SQLite's pages)."""
    digest = hashlib.sha256(
        f"{knowledge.sha256}\0{code_digest()}\0{model}\0{sys.version_info[:2]}\0"
        f"{sqlite3.sqlite_version}".encode()
    )
    for module in sorted(Path(answers_package.__file__).parent.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()


def read_index(model: str, key: str) -> dict[str, Any] | None:
    """The cached index built for ``key``; none when missing, stale or unreadable."""
    for root in _cache_dirs():
        snapshot = None
        try:
            with (root / f"answer-index-{_tag(model)}.pickle").open("rb") as stored:
                if stored.readline().strip() == key.encode():  # else another pack or code
                    snapshot = checked_pickle.loads(stored.read())
        except Exception:  # a missing, corrupt or truncated cache is rebuilt, never fatal
            snapshot = None
        if isinstance(snapshot, dict):
            return snapshot
    return None


def write_index(model: str, key: str, snapshot: Mapping[str, Any]) -> None:
    """``snapshot`` headed by ``key``, in the first cache directory that can be written."""
    data = key.encode() + b"\n" + checked_pickle.dumps(dict(snapshot))
    for root in _cache_dirs():
        path = root / f"answer-index-{_tag(model)}.pickle"
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            root.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError:  # full disk, a directory in the way: no half-written copy left behind
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            continue
        return


def packaged_vectors_file(model: str) -> Path:
    """Where the package keeps the prebuilt vectors for ``model`` (``adapters/data``, a package
    data directory: read from the file system, like every file of the installed package; no
    ``importlib.resources``, ~6 ms of every later ``cmvcds ask``)."""
    return Path(__file__).with_name("data") / f"answer-vectors-{_tag(model)}.npz"


def read_vectors(path: Path) -> dict[str, NDArray[np.float32]]:
    """The vectors stored at ``path`` by text key; none when it is missing or unreadable."""
    try:
        with np.load(path) as stored:
            if "keys" not in stored.files:  # a cache written before the one-matrix layout
                return {key: stored[key] for key in stored.files}
            keys, matrix = stored["keys"], stored["vectors"]
    except Exception:  # damaged (a CRC-32 mismatch, a torn header: EOFError, RuntimeError, ...)
        return {}  # or missing: its texts are embedded again, never a failed question
    return {str(key): matrix[i] for i, key in enumerate(keys)}


def write_vectors(path: Path, vectors: Mapping[str, NDArray[np.float32]]) -> None:
    """``vectors`` at ``path`` as one matrix and its keys (one read, not one per text)."""
    keys = sorted(vectors)
    matrix = (
        np.vstack([vectors[k] for k in keys]).astype(np.float32)
        if keys
        else np.zeros((0, 384), dtype=np.float32)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")  # two processes never share a partial file
    try:
        np.savez(tmp, keys=np.array(keys), vectors=matrix)
        tmp.replace(path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


class _Reporting:
    """An embedder that reports its progress on long runs (``cmvcds ask`` on a changed pack)."""

    def __init__(self, inner: Embedder, progress: Callable[[str], None]) -> None:
        self._inner = inner
        self._progress = progress

    @property
    def name(self) -> str:
        return self._inner.name

    def passages(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if len(texts) <= _BATCH:
            return self._inner.passages(texts)
        parts = []
        for start in range(0, len(texts), _BATCH):
            self._progress(
                f"Building the Ask index: {start}/{len(texts)} statements embedded (once per change)"
            )
            parts.append(self._inner.passages(texts[start : start + _BATCH]))
        self._progress(f"Building the Ask index: {len(texts)}/{len(texts)} statements embedded")
        return np.vstack(parts)

    def query(self, text: str) -> NDArray[np.float32]:
        return self._inner.query(text)


def build_engine(
    knowledge: Knowledge,
    *,
    semantic: bool = True,
    progress: Callable[[str], None] | None = None,
) -> AnswerEngine:
    """An engine for ``knowledge``, with the packaged embedding model and vectors, and the cache.

    ``progress`` receives a line now and then while statements are embedded (only when some
    are not prebuilt or cached)."""
    embedder = default_embedder() if semantic else None
    if embedder is None:
        return AnswerEngine(knowledge)
    key = index_key(knowledge, embedder.name)
    snapshot = read_index(embedder.name, key)
    if snapshot is not None:
        with contextlib.suppress(Exception):  # a cache of another shape is rebuilt
            return AnswerEngine.restore(knowledge, embedder, snapshot)
    packaged = read_vectors(packaged_vectors_file(embedder.name))
    path = _cache_file(embedder.name)
    cached = read_vectors(path) if path is not None else {}
    known: Mapping[str, Any] = {**packaged, **cached}
    used = _Reporting(embedder, progress) if progress is not None else embedder
    engine = AnswerEngine(knowledge, used, known)
    computed = engine.vectors()
    extra = {k: v for k, v in computed.items() if k not in packaged}
    if path is not None and set(extra) != set(cached):
        with contextlib.suppress(OSError):  # a cache that cannot be written is simply not used
            write_vectors(path, extra)
    write_index(embedder.name, key, engine.snapshot())
    return engine
