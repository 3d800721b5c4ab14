"""Retrieval over the evidence: SQLite FTS5/BM25 and semantic similarity, fused by rank.

Each evidence item is indexed twice. An in-memory SQLite FTS5 table holds its sentence and, in a
second column, the labels and synonyms (English and Italian) of its populations, drugs and
topics, so that "gravidanza" or "VGC" reach English statements by BM25; a third column holds
the Italian and English Snowball stems of both, so that "trattati" reaches "trattamento". A
sentence-embedding model (``embedding.py``), when installed, gives the cosine similarity of the question to each
sentence. The two rankings are fused by reciprocal rank (k = 60) and the concepts the question
names add a small bonus; items about another population or another drug are then set aside.
No file is read or written: the index is a pure function of the knowledge.

A caller that caches the index (``adapters/answer_index.py``) keeps ``Ranker.state()``: the
FTS5 database as SQLite serialises it (``sqlite3.Connection.serialize``, Python 3.11), with its
SHA-256, so that a later process loads the same pages in about a millisecond instead of inserting
and tokenising every row again (~40 ms for the two tables). An image whose digest does not match
is refused, never searched. A SQLite built without the serialize API keeps the rows instead.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cmvcds.engine.answers.embedding import Embedder, text_key
from cmvcds.engine.answers.evidence import Evidence
from cmvcds.engine.answers.vocabulary import Lexicon, Understanding, normalise, stems
from cmvcds.knowledge.schemas.answers import QuestionVocabulary

__all__ = ["RRF_K", "FtsImage", "Hit", "Ranker", "keywords_for", "select"]

#: Reciprocal-rank-fusion constant (Cormack et al. 2009).
RRF_K = 60
#: Bonus added to the fused score for each concept of the question an item shares.
CONCEPT_BONUS = 0.004
#: Weight of the third FTS column, the Snowball stems of the sentence and keywords (below the
#: keywords' 0.35: an inflection the words do not share counts, less than a shared word).
STEM_WEIGHT = 0.2
#: How many BM25 hits enter the fusion.
BM25_DEPTH = 60


#: Whether this SQLite can serialise a database to bytes and back (it lacks the API when built
#: without it, e.g. SQLite < 3.36 without ``SQLITE_ENABLE_DESERIALIZE``).
SERIALIZABLE = hasattr(sqlite3.Connection, "serialize")

_SCHEMA = (
    "CREATE VIRTUAL TABLE docs USING fts5(body, keywords, stemmed,"
    " tokenize='unicode61 remove_diacritics 2')"
)

#: The indexed texts: each one's normalised sentence, keywords and their stems.
Rows = tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class FtsImage:
    """The built FTS5 database as ``sqlite3.Connection.serialize`` returns it, and its SHA-256
    (so that a corrupt or truncated image is refused, not searched)."""

    data: bytes
    sha256: str

    @classmethod
    def of(cls, db: sqlite3.Connection) -> FtsImage:
        data = db.serialize()
        return cls(data, hashlib.sha256(data).hexdigest())

    def load(self) -> sqlite3.Connection:
        """A new in-memory database holding the image's pages; ``ValueError`` when the image is
        not the one its digest names."""
        if hashlib.sha256(self.data).hexdigest() != self.sha256:
            raise ValueError("the cached FTS5 image does not match its SHA-256")
        db = sqlite3.connect(":memory:", check_same_thread=False)
        db.deserialize(self.data)
        return db


@dataclass(frozen=True)
class Hit:
    index: int
    score: float
    bm25_rank: int | None
    semantic_rank: int | None
    similarity: float | None


class Ranker:
    """BM25 and (optionally) semantic ranking of a fixed list of texts with keywords."""

    def __init__(
        self,
        texts: Sequence[str],
        keywords: Sequence[str],
        embedder: Embedder | None,
        vectors: Mapping[str, NDArray[np.float32]] | None = None,
    ) -> None:
        rows = []
        for text, words in zip(texts, keywords, strict=True):
            body, labels = normalise(text), normalise(words)
            rows.append((body, labels, _stemmed(f"{body} {labels}")))
        keys: tuple[str, ...] = ()
        matrix: NDArray[np.float32] | None = None
        if embedder is not None:
            keys = tuple(text_key(embedder.name, t) for t in texts)
            known = vectors or {}
            missing = [i for i, key in enumerate(keys) if key not in known]
            fresh = embedder.passages([texts[i] for i in missing]) if missing else None
            computed = {keys[i]: fresh[row] for row, i in enumerate(missing) if fresh is not None}
            stacked = [np.asarray(known.get(key, computed.get(key)), np.float32) for key in keys]
            matrix = np.vstack(stacked) if stacked else np.zeros((0, 384), dtype=np.float32)
        self._db = _indexed(rows)
        self._rows: Rows | None = tuple(rows)
        self._set(len(rows), keys, matrix, embedder)

    def _set(
        self,
        size: int,
        keys: tuple[str, ...],
        matrix: NDArray[np.float32] | None,
        embedder: Embedder | None,
    ) -> None:
        self._lock = threading.Lock()
        self.size = size
        self.embedder = embedder
        self.keys = keys
        self.matrix = matrix

    def state(self) -> tuple[FtsImage | Rows, int, tuple[str, ...], object]:
        """A cache's plain data: the FTS5 database's image (or, where SQLite cannot serialise,
        the indexed texts, normalised, and their stems), how many texts, their vector keys and
        matrix."""
        with self._lock:
            fts = FtsImage.of(self._db) if SERIALIZABLE or self._rows is None else self._rows
        return fts, self.size, self.keys, self.matrix

    @classmethod
    def restore(
        cls, state: tuple[FtsImage | Rows, int, tuple[str, ...], object], embedder: Embedder | None
    ) -> Ranker:
        """The ranker ``state()`` described, without normalising, tokenising or embedding again
        (from rows, indexed again). ``ValueError`` when the state is not usable here."""
        fts, size, keys, matrix = state
        if (embedder is None) != (matrix is None):
            raise ValueError("the cached ranker was built with another embedder")
        ranker = cls.__new__(cls)
        if isinstance(fts, FtsImage):
            ranker._db, ranker._rows = fts.load(), None
        else:
            ranker._db, ranker._rows = _indexed(fts), fts
        ranker._set(size, keys, matrix if isinstance(matrix, np.ndarray) else None, embedder)
        return ranker

    def vectors(self) -> dict[str, NDArray[np.float32]]:
        """The vectors by text key, for a cache kept by the caller."""
        if self.matrix is None:
            return {}
        return {key: self.matrix[i] for i, key in enumerate(self.keys)}

    def words(self) -> set[str]:
        """Every word of the indexed texts (for telling known from unknown question words)."""
        with self._lock:
            self._db.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(docs, 'col')"
            )
            query = "SELECT DISTINCT term FROM vocab WHERE col != 'stemmed'"
            return {row[0] for row in self._db.execute(query)}

    def bm25(self, terms: Iterable[str]) -> list[int]:
        """Indices of the texts matching any of ``terms``, best first."""
        words = [t for t in terms if re.fullmatch(r"[a-z0-9][a-z0-9\-/]*", t)]
        quoted = sorted({f'"{t}"' for t in words})
        if not quoted:
            return []
        stemmed = sorted({f'stemmed : "{s}"' for s in _stemmed(" ".join(words)).split()})
        query = " OR ".join([*quoted, *stemmed])
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid FROM docs WHERE docs MATCH ?"
                f" ORDER BY bm25(docs, 1.0, 0.35, {STEM_WEIGHT}) LIMIT ?",
                (query, BM25_DEPTH),
            ).fetchall()
        return [int(r[0]) - 1 for r in rows]

    def similarity(self, query: str) -> NDArray[np.float32] | None:
        if self.embedder is None or self.matrix is None or not self.size:
            return None
        vector = self.embedder.query(query)
        return np.asarray(self.matrix @ vector, dtype=np.float32)

    def rank(
        self, query: str, terms: Iterable[str], bonus: Sequence[float] | None = None
    ) -> list[Hit]:
        """All texts with a BM25 match or a similarity, by fused score (best first)."""
        bm25_order = self.bm25(terms)
        bm25_rank = {index: r for r, index in enumerate(bm25_order, start=1)}
        similarity = self.similarity(query)
        semantic_rank: dict[int, int] = {}
        if similarity is not None:
            order = np.argsort(-similarity, kind="stable")
            semantic_rank = {int(index): r for r, index in enumerate(order, start=1)}
        hits = []
        for index in range(self.size):
            b, s = bm25_rank.get(index), semantic_rank.get(index)
            if b is None and s is None:
                continue
            score = (1 / (RRF_K + b) if b else 0.0) + (1 / (RRF_K + s) if s else 0.0)
            if bonus is not None:
                score += bonus[index]
            hits.append(
                Hit(
                    index, score, b, s, float(similarity[index]) if similarity is not None else None
                )
            )
        hits.sort(key=lambda h: (-h.score, h.index))
        return hits


def _indexed(rows: Sequence[tuple[str, str, str]]) -> sqlite3.Connection:
    """An in-memory FTS5 table of ``rows`` (body, keywords, stems), row ids from 1."""
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute(_SCHEMA)
    db.executemany(
        "INSERT INTO docs(rowid, body, keywords, stemmed) VALUES (?, ?, ?, ?)",
        [(i + 1, *row) for i, row in enumerate(rows)],
    )
    db.commit()
    return db


def _stemmed(text: str) -> str:
    """The Italian and English Snowball stems of the words of ``text``, as index tokens."""
    return " ".join(sorted({s.replace(":", "") for w in text.split() for s in stems(w)}))


def keywords_for(
    populations: Iterable[str],
    drugs: Iterable[str],
    topics: Iterable[str],
    vocabulary: QuestionVocabulary,
) -> str:
    """The labels and synonyms of an item's concepts: its second, lower-weighted FTS column."""
    words: list[str] = []
    for group, names in (
        (vocabulary.populations, populations),
        (vocabulary.drugs, drugs),
        (vocabulary.topics, topics),
    ):
        for name in names:
            term = group.get(name)
            if term is not None:
                words += [term.label, *term.synonyms]
    return " ".join(words)


def query_terms(understanding: Understanding, lexicon: Lexicon) -> list[str]:
    """The question's words for BM25: every token that is not a stop word."""
    return [t for t in understanding.tokens if t not in lexicon.ignorable and len(t) > 1]


def concept_bonus(
    items: Sequence[Evidence], understanding: Understanding, lexicon: Lexicon
) -> list[float]:
    populations = lexicon.expand_populations(understanding.populations)
    bonus = []
    for item in items:
        shared = (
            len(set(item.topics) & set(understanding.topics))
            + len(set(item.drugs) & set(understanding.drugs))
            + len(set(item.populations) & populations)
            + (0 if populations or item.populations else 1)
        )
        bonus.append(CONCEPT_BONUS * shared)
    return bonus


def compatible(item: Evidence, understanding: Understanding, lexicon: Lexicon) -> bool:
    """An item about another population or only about other drugs is not an answer here."""
    populations = lexicon.expand_populations(understanding.populations)
    if populations and item.populations and not set(item.populations) & populations:
        return False
    special = set(lexicon.vocabulary.special_populations)
    if not populations and item.populations and set(item.populations) <= special:
        return False
    if populations & special and item.origin == "table" and not item.populations:
        return False  # an adult label regimen is not the dose in pregnancy or for a newborn
    if item.needs_drug and not set(item.drugs) & set(understanding.drugs):
        return False
    return not (
        understanding.drugs and item.drugs and not set(item.drugs) & set(understanding.drugs)
    )


#: What a reader asking about a topic also means: "a treatment in pregnancy" is the prevention
#: of fetal infection and its evidence; "is it safe" is its toxicity and what is monitored.
TOPIC_FAMILY: Mapping[str, tuple[str, ...]] = {
    "treatment": ("treatment", "prophylaxis", "preemptive", "efficacy"),
    "toxicity": ("toxicity", "monitoring"),
    "diagnosis": ("diagnosis", "timing"),
    "risk": ("risk",),
}

#: Topics so specific that a statement carrying one answers a question naming it even when
#: neither BM25 nor the semantic model found it close ("How do CMV antivirals work?").
NAMED_ONLY_TOPICS = frozenset({"mechanism", "risk", "fetal-infection"})

#: With this many statements about the population asked for, general statements are left out.
MIN_SPECIFIC = 3
#: A hit found only by the semantic model must be this close to the best similarity.
SEMANTIC_MARGIN = 0.05


def _relevant(hit: Hit, best: float | None) -> bool:
    if hit.bm25_rank is not None:
        return True
    return (
        best is not None and hit.similarity is not None and hit.similarity >= best - SEMANTIC_MARGIN
    )


def select(
    items: Sequence[Evidence],
    ranker: Ranker,
    understanding: Understanding,
    lexicon: Lexicon,
    limit: int,
) -> list[tuple[Evidence, Hit]]:
    """The best ``limit`` compatible items for the question; on the topic when it names one."""
    hits = ranker.rank(
        understanding.semantic_query,
        query_terms(understanding, lexicon),
        concept_bonus(items, understanding, lexicon),
    )
    best = max((h.similarity for h in hits if h.similarity is not None), default=None)
    named = set(understanding.topics) & NAMED_ONLY_TOPICS
    fitting = [
        (items[h.index], h)
        for h in hits
        if compatible(items[h.index], understanding, lexicon)
        and (_relevant(h, best) or named & set(items[h.index].topics))
    ]
    populations = lexicon.expand_populations(understanding.populations)
    if populations:
        specific = [(e, h) for e, h in fitting if set(e.populations) & populations]
        if len(specific) >= MIN_SPECIFIC:
            named = set(understanding.drugs)
            fitting = [(e, h) for e, h in fitting if (e, h) in specific or set(e.drugs) & named]
    if understanding.topics:
        asked = {f for t in understanding.topics for f in TOPIC_FAMILY.get(t, (t,))}
        on_topic = [(e, h) for e, h in fitting if set(e.topics) & asked]
        if on_topic:
            fitting = on_topic
    if understanding.drugs:
        about_drug = [(e, h) for e, h in fitting if set(e.drugs) & set(understanding.drugs)]
        if about_drug:
            fitting = (
                about_drug
                + [(e, h) for e, h in fitting if not e.drugs][: max(0, limit - len(about_drug))]
            )
    return fitting[:limit]
