"""Pickles stored with the SHA-256 of their own bytes, for the caches under ``$CMVCDS_CACHE_DIR``.

Why: a cache key says what a cached object was built *from*; it says nothing of the bytes on
disk. One damaged byte inside a pickled text still unpickles — a dose of "16 mg/kg" read back as
"96 mg/kg", under an output that names the real pack — or fails later, when a table is first
used, on every run until the file is deleted (outside probe, session 5). Each cache file
therefore carries the digest of its payload, checked before anything is unpickled: a file that
does not match is not read, and its caller rebuilds it. The digest guards against damage, not
against someone who can write the cache folder (a pickle is code: docs/deploy.md).
"""

from __future__ import annotations

import hashlib
import pickle
from typing import Any

__all__ = ["DamagedCacheError", "dumps", "loads"]

_MAGIC = b"cmvcds-sha256:"


class DamagedCacheError(ValueError):
    """The bytes are not a checked pickle, or not the ones its digest was taken of."""


def dumps(value: Any) -> bytes:
    """``value`` pickled, headed by the SHA-256 of the pickle."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def loads(data: bytes) -> Any:
    """The value ``dumps`` stored in ``data``; ``DamagedCacheError`` when the header is missing
    or the payload is not the one its digest was taken of (checked before unpickling)."""
    header_end = len(_MAGIC) + 64
    if not data.startswith(_MAGIC) or data[header_end : header_end + 1] != b"\n":
        raise DamagedCacheError("not a checked cache file")
    payload = memoryview(data)[header_end + 1 :]
    if hashlib.sha256(payload).hexdigest().encode() != data[len(_MAGIC) : header_end]:
        raise DamagedCacheError("the cache file's bytes do not match their SHA-256")
    return pickle.loads(payload)
