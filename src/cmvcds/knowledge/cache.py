"""A compiled copy of a validated knowledge pack, so a cold process need not re-validate it.

Why: validating every file of the pack costs ~130-200 ms per process (issue 20, item 3), while
the pack only changes when someone edits it. The validated ``Knowledge`` object is pickled to a
user cache directory under a key that covers every byte that decides its content: the pack's own
SHA-256 (every file, names included - the same digest every output carries), the bytes of the
loader and schema modules that build it, and the Python and pydantic versions that pickled it.
Any change to any of these gives a new key, so an edited pack can never load a stale copy. The
file carries the SHA-256 of its own bytes, checked before unpickling (``checked_pickle``), so a
damaged copy is never used either (its tables are unpickled on first use, after that check).

Where: ``$CMVCDS_CACHE_DIR``, else ``$XDG_CACHE_HOME/cmvcds``, else ``~/.cache/cmvcds``.
``CMVCDS_CACHE_DIR=""`` (empty) turns the cache off. Any failure to read or write the cache is
silent: the pack is then loaded and validated as usual.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

from cmvcds.knowledge import checked_pickle
from cmvcds.knowledge.lazy_tables import LazyTables

__all__ = ["cache_dir", "read", "write"]

_CODE = Path(__file__).parent


def cache_dir() -> Path | None:
    """The cache folder (None when turned off with an empty ``CMVCDS_CACHE_DIR``)."""
    override = os.environ.get("CMVCDS_CACHE_DIR")
    if override is not None:
        return Path(override) if override else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "cmvcds"


@cache
def code_digest() -> str:
    """SHA-256 of the code that builds a ``Knowledge`` (loader, schemas) and of its runtime."""
    import pydantic

    digest = hashlib.sha256()
    digest.update(f"{sys.version}\0{pydantic.VERSION}\0".encode())
    for file in [
        _CODE / "loader.py",
        _CODE / "cache.py",
        _CODE / "lazy_tables.py",
        _CODE / "checked_pickle.py",
        *sorted((_CODE / "schemas").glob("*.py")),
    ]:
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def _entry(pack_sha256: str) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    return folder / f"knowledge-{pack_sha256}-{code_digest()[:16]}.pickle"


def read(pack_sha256: str) -> Any | None:
    """The cached ``Knowledge`` for a pack of this SHA-256, or None (absent, unreadable, stale)."""
    try:
        entry = _entry(pack_sha256)
        if entry is None or not entry.is_file():
            return None
        knowledge = checked_pickle.loads(entry.read_bytes())
    except Exception:  # a broken or damaged cache file is never an error: the pack is re-validated
        return None
    if getattr(knowledge, "sha256", None) != pack_sha256:
        return None
    return knowledge


def write(knowledge: Any) -> None:
    """Store ``knowledge`` under its SHA-256, atomically, its tables each pickled on its own
    (``LazyTables``: a reader unpickles only the tables it uses); silently skip when not
    writable."""
    entry = _entry(knowledge.sha256)
    if entry is None:
        return
    partial = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
    try:
        lazy = dataclasses.replace(knowledge, tables=LazyTables.of(knowledge.tables))
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(checked_pickle.dumps(lazy))
        os.replace(partial, entry)
    except Exception:  # read-only home, full disk, unpicklable value: load normally next time
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
