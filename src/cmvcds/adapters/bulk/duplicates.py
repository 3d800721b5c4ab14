"""Case ids seen in a bulk run, in bounded memory: a later line whose id an earlier line already
had is refused, never assessed a second time without a word (it would count one patient twice
in the study's tallies).

What a study coordinator is told: the later line's output is a ``cmvcds-bulk-error/1`` record
naming the id and the earlier line (and whether the two lines are identical or differ: a
corrected re-entry is not guessed to be the right one, the input is to be fixed), and the
summary counts the duplicates and lists the first of them. The first line is assessed and
counted once. An id is tracked when its line is assessed: a line refused for another reason
does not make a later line with the same id a duplicate (that later line is the only assessed
one).

Memory is bounded: each id is kept as a 64-bit digest of the id and one of the line, with the
line number, in an open-addressing table of fixed-size slots (20 bytes each, filled to at most
3/4) that doubles as it fills, up to ``MAX_IDS`` ids: 84 MB at the limit, 42 MB for a million
cases (a Python ``dict`` of the ids would take about five times more). Past the limit, new ids
are not tracked, and the summary says how far the check went. Two different ids share a 64-bit digest with a probability of about
n²/2⁶⁵ (about 1 in 10⁷ for two million ids); the refusal names the earlier line, so a
coordinator can see it.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from hashlib import blake2b

__all__ = ["MAX_IDS", "Earlier", "SeenIds", "digest"]

#: Ids tracked at most in one run (documented in ``cmvcds assess-bulk --help``'s docs).
MAX_IDS = 3_000_000
_START = 1 << 12


def digest(data: bytes | str) -> int:
    """A non-zero 64-bit digest (zero marks an empty slot)."""
    raw = data.encode() if isinstance(data, str) else data
    return int.from_bytes(blake2b(raw, digest_size=8).digest(), "little") or 1


@dataclass(frozen=True)
class Earlier:
    """The earlier line that had the same id, and whether the two lines are the same bytes."""

    line: int
    identical: bool


@dataclass
class SeenIds:
    """The ids of the assessed lines of a run (see the module docstring)."""

    limit: int = MAX_IDS
    count: int = 0
    #: True once an id was not tracked because ``limit`` ids already were.
    full: bool = False
    _keys: array[int] = field(default_factory=lambda: array("Q", bytes(8 * _START)))
    _texts: array[int] = field(default_factory=lambda: array("Q", bytes(8 * _START)))
    _lines: array[int] = field(default_factory=lambda: array("I", bytes(4 * _START)))

    def check(self, case_id: str, line: int, text_digest: int) -> Earlier | None:
        """The earlier line with ``case_id``, if any; else ``case_id`` is recorded as seen on
        ``line`` (unless the table is full) and None."""
        key = digest(case_id)
        slot = self._slot(key)
        if self._keys[slot] == key:
            return Earlier(self._lines[slot], self._texts[slot] == text_digest)
        if self.count >= self.limit:
            self.full = True
            return None
        self._keys[slot], self._texts[slot], self._lines[slot] = key, text_digest, line
        self.count += 1
        if 4 * self.count > 3 * len(self._keys):  # load factor at most 3/4
            self._grow()
        return None

    def _slot(self, key: int) -> int:
        mask = len(self._keys) - 1
        slot = key & mask
        while self._keys[slot] not in (0, key):  # linear probing
            slot = (slot + 1) & mask
        return slot

    def _grow(self) -> None:
        keys, texts, lines = self._keys, self._texts, self._lines
        size = 2 * len(keys)
        self._keys = array("Q", bytes(8 * size))
        self._texts = array("Q", bytes(8 * size))
        self._lines = array("I", bytes(4 * size))
        for key, text, line in zip(keys, texts, lines, strict=True):
            if key:
                slot = self._slot(key)
                self._keys[slot], self._texts[slot], self._lines[slot] = key, text, line
