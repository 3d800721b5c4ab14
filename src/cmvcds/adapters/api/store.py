"""The web app's own small tables: cases entered or uploaded, CDS Hooks cards and feedback.

They live in the database of ``CMVCDS_DATABASE_URL`` beside the registry's tables (defined in
``registry/web_tables.py``) and are made by the Alembic migrations, run on start when the
database is behind the code's head (``cmvcds serve`` runs them before it starts too). A stored case keeps its raw input; its
assessment is recomputed on view with the current knowledge, whose version the page shows.
Every saved state of a case (entered, edited, a result added, re-assessed) is kept as a numbered
version with the assessment it gave and the knowledge version and SHA-256 that gave it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from cmvcds.domain.documents import parse_document
from cmvcds.errors import InputError
from cmvcds.registry import migrate
from cmvcds.registry.db import make_engine
from cmvcds.registry.web_tables import (
    cds_cards,
    cds_feedback,
    cds_jwt_seen,
    metadata,
    web_case_versions,
    web_cases,
)

__all__ = [
    "CardsShown",
    "CaseStore",
    "CaseVersion",
    "JtiClaim",
    "StaleVersion",
    "StoredCase",
    "metadata",
]

LOG = logging.getLogger("cmvcds.web")

#: The largest key of a row (a signed 64-bit integer).
MAX_KEY = 2**63 - 1


class CardsShown(NamedTuple):
    """The cards one CDS Hooks call returned."""

    service_id: str
    hook_instance: str
    cards: list[dict[str, Any]]
    version: str


class JtiClaim(NamedTuple):
    """A verified CDS Hooks JWT's id, kept until ``expires_at`` (epoch seconds)."""

    issuer: str
    jti: str
    expires_at: float


@dataclass(frozen=True)
class StoredCase:
    key: int
    case_id: str
    context: str
    origin: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class CaseVersion:
    """One saved state of a case, with the assessment it gave and the knowledge that gave it."""

    version: int
    raw: dict[str, Any]
    assessment: dict[str, Any] | None
    knowledge_version: str | None
    knowledge_sha256: str | None
    change: str
    saved_at: datetime


class StaleVersion(Exception):
    """A save from version ``expected`` of a case now at version ``latest``."""

    def __init__(self, key: int, expected: int, latest: int) -> None:
        super().__init__(f"case {key} is at version {latest}, the edit started from {expected}")
        self.key, self.expected, self.latest = key, expected, latest


class CaseStore:
    """Cases and feedback in the configured database."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = make_engine(url)
        if migrate.current_revision(self.engine) != migrate.head_revision():
            migrate.upgrade(self.engine)

    def add(
        self, raw: dict[str, Any], origin: str, assessment: dict[str, Any] | None = None
    ) -> int:
        """Store a new case (its version 1, with ``assessment`` when given); returns its key."""
        row = {
            "case_id": str(raw.get("id", "")),
            "context": str(raw.get("context", "")),
            "origin": origin,
            "raw_json": _json(raw),
            "created_at": datetime.now(UTC),
        }
        with self.engine.begin() as connection:
            result = connection.execute(insert(web_cases).values(**row))
            key = int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0
            self._insert_version(connection, key, 1, raw, assessment, f"created ({origin})")
        return key

    def save_version(
        self,
        key: int,
        raw: dict[str, Any],
        assessment: dict[str, Any] | None,
        change: str,
        *,
        expected: int | None = None,
    ) -> int:
        """Make ``raw`` the case's current state, kept as its next version; returns the number.

        Two writers saving at once both keep their version (the unique number is retried),
        unless ``expected`` names the version the writer started from: a newer one raises
        ``StaleVersion`` (optimistic concurrency: an edit never silently undoes another)."""
        for _ in range(5):
            try:
                with self.engine.begin() as connection:
                    number = 1 + (
                        connection.execute(
                            select(func.max(web_case_versions.c.version)).where(
                                web_case_versions.c.case_key == key
                            )
                        ).scalar_one()
                        or 0
                    )
                    if expected is not None and number - 1 != expected:
                        raise StaleVersion(key, expected, number - 1)
                    connection.execute(
                        update(web_cases)
                        .where(web_cases.c.id == key)
                        .values(
                            raw_json=_json(raw),
                            case_id=str(raw.get("id", "")),
                            context=str(raw.get("context", "")),
                        )
                    )
                    self._insert_version(connection, key, number, raw, assessment, change)
                return number
            except IntegrityError:
                continue
        raise RuntimeError(f"case {key}: could not number the new version")

    @staticmethod
    def _insert_version(
        connection: Any,
        key: int,
        number: int,
        raw: dict[str, Any],
        assessment: dict[str, Any] | None,
        change: str,
    ) -> None:
        stamp = (assessment or {}).get("knowledge") or {}
        connection.execute(
            insert(web_case_versions).values(
                case_key=key,
                version=number,
                raw_json=_json(raw),
                assessment_json=None if assessment is None else _json(assessment),
                knowledge_version=stamp.get("version"),
                knowledge_sha256=stamp.get("sha256"),
                change=change[:200],
                saved_at=datetime.now(UTC),
            )
        )

    def versions(self, key: int) -> list[CaseVersion]:
        """Every saved version of case ``key``, oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(web_case_versions)
                .where(web_case_versions.c.case_key == key)
                .order_by(web_case_versions.c.version)
            ).all()
        return [_version(r) for r in rows]

    def latest_version(self, key: int) -> int:
        """The number of case ``key``'s newest version (0 for none)."""
        with self.engine.connect() as connection:
            number = connection.execute(
                select(func.max(web_case_versions.c.version)).where(
                    web_case_versions.c.case_key == key
                )
            ).scalar_one()
        return int(number or 0)

    def get(self, key: int) -> StoredCase | None:
        """The stored case ``key``; None for no such case (also a key no database row can have)."""
        if not 0 < key <= MAX_KEY:  # SQLite and PostgreSQL would fail on a larger integer
            return None
        with self.engine.connect() as connection:
            row = connection.execute(select(web_cases).where(web_cases.c.id == key)).first()
        return None if row is None else _stored(row)

    def all(self) -> list[StoredCase]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(web_cases).order_by(web_cases.c.id)).all()
        return [
            StoredCase(r.id, r.case_id, r.context, r.origin, json.loads(r.raw_json)) for r in rows
        ]

    def has_origin(self, origin: str) -> bool:
        with self.engine.connect() as connection:
            count = connection.execute(
                select(func.count()).select_from(web_cases).where(web_cases.c.origin == origin)
            ).scalar_one()
        return bool(count)

    def load_demo(self, folder: Path) -> int:
        """Add every ``*.yaml`` case of ``folder`` once (origin ``demo:<file>``); returns how many."""
        added = 0
        for file in sorted(folder.glob("*.yaml")):
            origin = f"demo:{file.name}"[:40]
            if self.has_origin(origin):
                continue
            try:
                raw = parse_document(file.read_bytes(), file.name, "yaml")
            except (OSError, InputError) as error:
                LOG.warning("demo case %s not loaded: %s", file, error)
                continue
            if isinstance(raw, dict) and raw.get("format") == "cmvcds-case/1":  # not settings
                self.add(raw, origin)
                added += 1
        return added

    def claim_jtis(self, claims: Sequence[JtiClaim]) -> None:
        """Record the JWT ids of ``claims`` until their ``expires_at``, in one transaction (the
        CDS route sends the calls verified together: ``GroupCommit``); ``IntegrityError`` when
        one was recorded before (a replay), and then none of them is.

        The primary key makes a claim atomic across workers and databases; expired rows are
        deleted first, in the same transaction (one commit, one wait for the disk, per batch),
        so the table holds only tokens that could still be replayed."""
        with self.engine.begin() as connection:
            connection.execute(delete(cds_jwt_seen).where(cds_jwt_seen.c.expires_at < time.time()))
            connection.execute(insert(cds_jwt_seen), [claim._asdict() for claim in claims])

    def add_cards(self, calls: Sequence[CardsShown]) -> None:
        """Keep every card of ``calls`` (CDS Hooks cards shown, issue 16) in one transaction:
        the CDS route sends the calls answered together (``GroupCommit``)."""
        now = datetime.now(UTC)
        rows = [
            {
                "service_id": call.service_id,
                "hook_instance": call.hook_instance,
                "card_uuid": str(card.get("uuid", "")),
                "indicator": str(card.get("indicator", "")),
                "summary": str(card.get("summary", ""))[:200],
                "card_json": _card_json(card),
                "knowledge_version": call.version,
                "shown_at": now,
            }
            for call in calls
            for card in call.cards
        ]
        if not rows:
            return
        with self.engine.begin() as connection:
            connection.execute(insert(cds_cards), rows)

    def cards_shown(self, hook_instance: str) -> list[dict[str, Any]]:
        """The cards returned to ``hook_instance``, in the order given."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(cds_cards.c.card_json)
                .where(cds_cards.c.hook_instance == hook_instance)
                .order_by(cds_cards.c.id)
            ).all()
        return [json.loads(r.card_json) for r in rows]

    def add_feedback(self, service_id: str, item: dict[str, Any]) -> str | None:
        """Keep one feedback with the hook instance of the call that showed its card; returns
        that hook instance (None: this service never showed the card)."""
        card = str(item.get("card", ""))
        with self.engine.begin() as connection:
            hook_instance = connection.execute(
                select(cds_cards.c.hook_instance)
                .where(cds_cards.c.card_uuid == card, cds_cards.c.service_id == service_id)
                .order_by(cds_cards.c.id.desc())
                .limit(1)
            ).scalar()
            connection.execute(
                insert(cds_feedback).values(
                    service_id=service_id,
                    card_uuid=card,
                    outcome=str(item.get("outcome", "")),
                    payload_json=json.dumps(item, ensure_ascii=False),
                    received_at=datetime.now(UTC),
                    hook_instance=hook_instance,
                )
            )
        return hook_instance

    def feedback(self, service_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(cds_feedback)
                .where(cds_feedback.c.service_id == service_id)
                .order_by(cds_feedback.c.id)
            ).all()
        return [json.loads(r.payload_json) for r in rows]


def _json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _version(row: Any) -> CaseVersion:
    return CaseVersion(
        version=row.version,
        raw=json.loads(row.raw_json),
        assessment=None if row.assessment_json is None else json.loads(row.assessment_json),
        knowledge_version=row.knowledge_version,
        knowledge_sha256=row.knowledge_sha256,
        change=row.change,
        saved_at=row.saved_at,
    )


def _stored(row: Any) -> StoredCase:
    return StoredCase(row.id, row.case_id, row.context, row.origin, json.loads(row.raw_json))


def _card_json(card: dict[str, Any]) -> str:
    """A card shown as JSON text (orjson, ~10x faster than json.dumps: the cards of every CDS
    call are written; issue 20 item 5); what orjson cannot write goes through json.dumps."""
    try:
        return orjson.dumps(card).decode()
    except orjson.JSONEncodeError:
        return json.dumps(card, ensure_ascii=False)
