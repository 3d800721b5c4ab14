"""The tables of a cached pack, each unpickled on first use (issue 20, item 3: cold start).

Unpickling a whole pack builds every schema class of every domain (~130 pydantic classes), while
one assessment reads a few domains' tables: a pregnancy never needs the resistance, congenital,
Ask or registry schemas. ``LazyTables`` holds each table as its own pickle and its class names
(the whole method resolution order, so that ``names_of(kind)`` answers ``isinstance`` without
unpickling); ``tables[name]`` unpickles that table once, under a lock (the API serves threads).
It is a read-only ``Mapping``: names, membership and length never unpickle anything; equality
with a plain dict of the same tables holds.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["LazyTables", "class_names"]


def class_names(kind: type) -> frozenset[str]:
    """``module.qualname`` of ``kind`` and of every class it derives from."""
    return frozenset(f"{c.__module__}.{c.__qualname__}" for c in kind.__mro__)


class LazyTables(Mapping[str, Any]):
    """Table name → table, unpickled on first access."""

    def __init__(self, blobs: Mapping[str, bytes], kinds: Mapping[str, frozenset[str]]) -> None:
        self._blobs = dict(blobs)
        self._kinds = dict(kinds)
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, tables: Mapping[str, Any]) -> LazyTables:
        """The lazy form of validated ``tables`` (each pickled on its own)."""
        return cls(
            {name: pickle.dumps(t, protocol=pickle.HIGHEST_PROTOCOL) for name, t in tables.items()},
            {name: class_names(type(t)) for name, t in tables.items()},
        )

    def names_of(self, kind: type) -> list[str]:
        """The names of the tables that are ``kind`` instances, without unpickling any."""
        wanted = f"{kind.__module__}.{kind.__qualname__}"
        return [name for name, kinds in self._kinds.items() if wanted in kinds]

    def __getitem__(self, name: str) -> Any:
        try:
            return self._loaded[name]
        except KeyError:
            blob = self._blobs[name]  # KeyError for an unknown table, as a dict gives
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = pickle.loads(blob)
            return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)

    def __contains__(self, name: object) -> bool:
        return name in self._blobs

    def __reduce__(self) -> tuple[Any, ...]:
        return (LazyTables, (self._blobs, self._kinds))
