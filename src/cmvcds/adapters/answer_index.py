"""The Ask engine with its statement vectors cached on disk, shared by the CLI and the web app.

Embedding every statement takes tens of seconds on first use; the vectors are kept in
``$CMVCDS_CACHE_DIR`` (default ``~/.cache/cmvcds``), one file per model, keyed by statement text,
so a changed statement is embedded again and an unchanged one never is.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from cmvcds.engine.answers import AnswerEngine, default_embedder
from cmvcds.knowledge import Knowledge

__all__ = ["build_engine"]


def _cache_file(model: str) -> Path:
    """One file per model; it holds the vectors of the current statements, keyed by their text."""
    root = Path(os.environ.get("CMVCDS_CACHE_DIR") or Path.home() / ".cache" / "cmvcds")
    tag = hashlib.sha256(model.encode()).hexdigest()[:16]
    return root / f"answer-vectors-{tag}.npz"


def build_engine(knowledge: Knowledge, *, semantic: bool = True) -> AnswerEngine:
    """An engine for ``knowledge``, with the packaged embedding model and the vector cache."""
    embedder = default_embedder() if semantic else None
    if embedder is None:
        return AnswerEngine(knowledge)
    path = _cache_file(embedder.name)
    vectors: dict[str, Any] = {}
    try:
        with np.load(path) as stored:
            vectors = {key: stored[key] for key in stored.files}
    except (OSError, ValueError):
        vectors = {}
    engine = AnswerEngine(knowledge, embedder, vectors)
    computed = engine.vectors()
    if set(computed) != set(vectors):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, **computed)  # type: ignore[arg-type]  # numpy stub: keyword arrays
            tmp.replace(path)
        except OSError:
            pass
    return engine
