"""The audit trail: append-only, hash-chained, written automatically for every audited write.

A session hook (``before_flush``) turns each insert, update and delete of an ``Audited`` row
into entries ``who, when (UTC), site, entity, field, old value, new value, reason``. Entries are
numbered without gaps (``seq``) and each carries ``hash = HMAC-SHA256(key, entry incl. previous
hash)`` with the audit key held outside the database (``audit_key.py``), so someone who can
write to the database cannot forge, re-hash or re-order entries. Writers serialise on the
single ``audit_head`` row. The database refuses UPDATE and DELETE on the trail (triggers from
the migrations); ``verify`` recomputes the chain and names the first entry that does not match.

Entries written before the chain was keyed (``seq < audit_head.keyed_from``, migration 0004)
are verified under the legacy unkeyed SHA-256; the first keyed entry's HMAC covers the last
legacy hash, so once one keyed entry exists the legacy part cannot be rewritten either.
Checkpoints (``checkpoints.py``) and the data-table replay (``audit_replay.py``) complete the
tamper evidence (``audit_verify.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.orm import Session

from cmvcds.errors import AuditIntegrityError, RegistryError
from cmvcds.registry.audit_key import AuditKey, audit_key
from cmvcds.registry.locks import bounded_wait
from cmvcds.registry.models.audit import GENESIS, AuditEntry, AuditHead
from cmvcds.registry.models.base import Audited, new_id, utc_now

__all__ = [
    "HASHED_FIELDS",
    "AuditReport",
    "append",
    "entry_hash",
    "install_audit_hook",
    "sealed",
    "session_key",
    "verify",
]

HASHED_FIELDS = (
    "seq", "at", "user_id", "username", "site_id", "action", "entity", "entity_id",
    "field", "old_value", "new_value", "reason", "prev_hash",
)  # fmt: skip


def text(value: Any) -> str | None:
    """The audit trail's text form of a column value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def entry_hash(fields: dict[str, Any], key: bytes | None) -> str:
    """HMAC-SHA256 under ``key`` of the entry's canonical JSON (sorted keys, every hashed field);
    ``key`` None: the legacy unkeyed SHA-256 of entries written before migration 0004."""
    payload = json.dumps(
        {k: fields[k] for k in HASHED_FIELDS}, sort_keys=True, separators=(",", ":")
    ).encode()
    if key is None:
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def session_key(session: Session) -> AuditKey:
    """The audit key of the database ``session`` is bound to."""
    url = session.get_bind().engine.url
    return audit_key(url.render_as_string(hide_password=False))


@dataclass(frozen=True)
class Change:
    action: str
    entity: str
    entity_id: str
    site_id: str | None
    field: str | None
    old: str | None
    new: str | None


def append(session: Session, changes: list[Change], *, reason: str | None = None) -> None:
    """Append ``changes`` to the chain, acting as the session's actor."""
    if not changes:
        return
    actor = session.info.get("actor")
    if actor is None:
        raise RegistryError("a write to the registry needs an acting user (none was given)")
    key = session_key(session).chain
    connection = session.connection()
    with bounded_wait(connection):  # writers queue here: the wait is bounded (locks.py)
        head = connection.execute(
            select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
        ).one()
    seq, prev = int(head.seq), str(head.hash)
    at = utc_now().isoformat(timespec="microseconds")
    rows = []
    for change in changes:
        seq += 1
        fields: dict[str, Any] = {
            "seq": seq, "at": at, "user_id": actor.user_id, "username": actor.username,
            "site_id": change.site_id, "action": change.action, "entity": change.entity,
            "entity_id": change.entity_id, "field": change.field, "old_value": change.old,
            "new_value": change.new, "reason": reason or session.info.get("reason"), "prev_hash": prev,
        }  # fmt: skip
        fields["hash"] = prev = entry_hash(fields, key)
        rows.append(fields)
    connection.execute(insert(AuditEntry), rows)
    connection.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))


def install_audit_hook(session: Session) -> None:
    """Audit every flush of ``session``."""
    if not session.info.get("audit_hook"):
        event.listen(session, "before_flush", _before_flush)
        session.info["audit_hook"] = True


def sealed(key: bytes, value: str | None) -> str | None:
    """What the trail records of a secret column (a password hash): a keyed seal, never the
    value, so that a value replaced behind the application's back is still detected."""
    if value is None:
        return None
    return "sealed:" + hmac.new(key, b"cmvcds seal\0" + value.encode(), hashlib.sha256).hexdigest()


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    def seal(value: str | None) -> str | None:
        return sealed(session_key(session).chain, value)

    changes: list[Change] = []
    for obj in session.new:
        if isinstance(obj, Audited):
            changes.extend(_row_changes(obj, "create", seal))
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            changes.extend(_row_changes(obj, "update", seal))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            changes.extend(_row_changes(obj, "delete", seal))
    if (
        any(c.action != "create" for c in changes)
        and _needs_reason(session)
        and not session.info.get("reason")
    ):
        raise RegistryError(
            "a change or deletion of recorded data needs a reason (21 CFR 11.10(e))"
        )
    append(session, changes)


def _needs_reason(session: Session) -> bool:
    return any(
        getattr(obj, "__audit_reason_required__", False)
        for obj in (*session.dirty, *session.deleted)
    )


def _row_changes(
    obj: Audited, action: str, seal: Callable[[str | None], str | None]
) -> list[Change]:
    state = inspect(obj)
    mapper = state.mapper
    if obj.id is None:
        obj.id = new_id()
    site_attr = type(obj).__audit_site__
    site_id = text(getattr(obj, site_attr)) if site_attr else None
    label = getattr(obj, "audit_label", None)
    columns = getattr(type(obj), "__audit_columns__", None) or [
        c.key
        for c in mapper.column_attrs
        if c.key != "id" and c.key not in type(obj).__audit_skip__
    ]
    changes = []
    for key in columns:
        if action == "update":
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            old = text(history.deleted[0]) if history.deleted else None
            new = text(history.added[0]) if history.added else None
            if old == new:
                continue
        elif action == "create":
            old, new = None, text(getattr(obj, key))
            if new is None:
                continue
        else:
            old, new = text(getattr(obj, key)), None
        if key in type(obj).__audit_sealed__:
            old, new = seal(old), seal(new)
        field = label(key) if callable(label) else key
        changes.append(Change(action, mapper.local_table.name, obj.id, site_id, field, old, new))
    return changes


@dataclass(frozen=True)
class AuditReport:
    """A verified trail: how many entries, the hash of the last, the first keyed entry."""

    entries: int
    head: str
    keyed_from: int = 1


def verify(session: Session, *, batch: int = 5000) -> AuditReport:
    """Recompute the chain; raise ``AuditIntegrityError`` at the first entry that does not verify."""
    key = session_key(session).chain
    keyed_from = int(
        session.execute(select(AuditHead.keyed_from).where(AuditHead.id == 1)).scalar_one()
    )
    prev, expected_seq = GENESIS, 1
    last = 0
    while True:
        rows = (
            session.execute(
                select(AuditEntry)
                .where(AuditEntry.seq > last)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for row in rows:
            fields = {name: getattr(row, name) for name in (*HASHED_FIELDS, "hash")}
            if row.seq != expected_seq:
                raise AuditIntegrityError(
                    f"audit entry {expected_seq} is missing (next is {row.seq})"
                )
            if row.prev_hash != prev:
                raise AuditIntegrityError(
                    f"audit entry {row.seq}: previous hash does not match entry {row.seq - 1}"
                )
            if entry_hash(fields, key if row.seq >= keyed_from else None) != row.hash:
                raise AuditIntegrityError(
                    f"audit entry {row.seq} ({row.entity} {row.entity_id} {row.field}): "
                    "content does not match its keyed hash; the entry was altered or forged"
                )
            prev, expected_seq, last = row.hash, expected_seq + 1, row.seq
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    if head.seq != last or head.hash != prev:
        raise AuditIntegrityError(
            f"audit head says entry {head.seq} but the trail ends at entry {last}: entries were removed or added"
        )
    return AuditReport(entries=last, head=prev, keyed_from=keyed_from)
