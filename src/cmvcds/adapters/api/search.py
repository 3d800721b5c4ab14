"""Full-text search over the knowledge pack's sources and tables (SQLite FTS5, bm25 ranking).

The index is built in memory from the loaded pack when the app starts, so that it always
describes the knowledge that answers the questions — never a stale copy.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from typing import Any

from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.base import Strict

__all__ = ["KnowledgeIndex"]


class KnowledgeIndex:
    """``search(q)`` → ranked hits, each with a snippet whose matches are wrapped in ``[…]``."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE kb USING fts5(kind UNINDEXED, id, title, body, tokenize='porter unicode61')"
        )
        rows = [
            (
                "source",
                s.id,
                s.title,
                " ".join(filter(None, (s.citation(), s.locator, s.note, s.url))),
            )
            for s in knowledge.sources.values()
        ]
        for name, table in knowledge.tables.items():
            body = f"{knowledge.descriptions.get(name, '')} {_text(table)}"
            rows.append(("table", name, knowledge.descriptions.get(name, name), body))
        self._db.executemany("INSERT INTO kb(kind, id, title, body) VALUES (?, ?, ?, ?)", rows)

    def search(self, query: str, limit: int = 20) -> list[dict[str, str]]:
        words = re.findall(r"[\w+.:-]+", query, flags=re.UNICODE)
        if not words:
            return []
        match = " ".join('"' + w.replace('"', '""') + '"' for w in words[:12])
        with self._lock:
            found = self._db.execute(
                "SELECT kind, id, title, snippet(kb, 3, '[', ']', '…', 14) FROM kb WHERE kb MATCH ? "
                "ORDER BY bm25(kb, 0, 10.0, 5.0, 1.0) LIMIT ?",
                (match, limit),
            ).fetchall()
        return [
            {
                "kind": kind,
                "id": id_,
                "title": title,
                "snippet": snippet,
                "url": f"/knowledge/sources/{id_}"
                if kind == "source"
                else f"/knowledge/tables/{id_}",
            }
            for kind, id_, title, snippet in found
        ]


def _text(table: Any) -> str:
    """A table's content as searchable words (models dumped to JSON, keys and values)."""
    if isinstance(table, tuple):
        data: Any = [
            row.model_dump(mode="json") if isinstance(row, Strict) else row for row in table
        ]
    elif isinstance(table, Strict):
        data = table.model_dump(mode="json")
    else:
        data = table
    return re.sub(r'[{}\[\]",]+', " ", json.dumps(data, ensure_ascii=False, default=str))
