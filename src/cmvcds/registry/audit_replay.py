"""Replay the audit trail and compare it with the data tables.

Every write through the application leaves a trail entry per changed column, so replaying the
trail from the start rebuilds every current row of every ``Audited`` table. A row changed,
inserted or deleted with SQL behind the application's back (no entry) shows up as a difference:
a value that is not the one the trail last recorded, a row the trail never created, a row the
trail says exists (or was deleted) but the table does not hold (or still holds). The same is
done for the export log: every export has its entry.

Secret columns (a user's password hash) are compared through their keyed seal. Not covered, by
design: columns kept out of the trail (login counters of ``users``, the secret ``offset_days``
of ``date_shifts``), password hashes of users created before sealing, creation timestamps filled by a
default at insert (never in the trail), a CRF value's ``subject_id`` (the trail names the value
by its event/form/instance/field label and site, not its subject), and the unaudited tables
(web sessions, dictionary versions).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Column, DateTime, Table, select
from sqlalchemy.orm import Session

from cmvcds.registry.audit import sealed, session_key, text
from cmvcds.registry.models import AuditEntry, Base, ExportLog
from cmvcds.registry.models.base import Audited

__all__ = ["replay_problems"]

#: A value never recorded in the trail (the column was empty at creation).
_UNRECORDED = object()
#: How many differences are reported before the rest are only counted.
_SHOWN = 20


def _audited() -> dict[str, type[Audited]]:
    return {
        cast(Table, mapper.local_table).name: mapper.class_
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, Audited)
    }


def _columns(model: type[Audited]) -> list[str]:
    table = model.__table__  # type: ignore[attr-defined]
    listed = getattr(model, "__audit_columns__", None)
    return (
        list(listed)
        if listed
        else [
            c.name for c in table.columns if c.name != "id" and c.name not in model.__audit_skip__
        ]
    )


def _trail(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = list(session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ))  # fmt: skip
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


class _Replay:
    """The rows as the trail says they are: table → id → column → text (None: deleted)."""

    def __init__(self, models: dict[str, type[Audited]], key: bytes) -> None:
        self.models = models
        self.key = key
        #: each table's trail columns, worked out once (``apply`` runs once per trail entry)
        self.columns = {name: _columns(model) for name, model in models.items()}
        self.rows: dict[str, dict[str, dict[str, str | None] | None]] = {t: {} for t in models}
        self.labels: dict[tuple[str, str], str | None] = {}
        self.sites: dict[tuple[str, str], str | None] = {}
        self.exports: set[str] = set()

    def apply(self, entry: AuditEntry) -> None:
        if entry.action == "export":
            self.exports.add(entry.entity_id)
            return
        model = self.models.get(entry.entity)
        if model is None:
            return
        table = self.rows[entry.entity]
        if entry.action == "delete":
            table[entry.entity_id] = None
            return
        state = table.get(entry.entity_id)
        if state is None:
            state = table[entry.entity_id] = {}
        columns = self.columns[entry.entity]
        column = columns[0] if len(columns) == 1 else (entry.field or "")
        state[column] = entry.new_value
        self.labels[(entry.entity, entry.entity_id)] = entry.field
        self.sites[(entry.entity, entry.entity_id)] = entry.site_id


def replay_problems(session: Session) -> list[str]:
    """The differences between the trail's replay and the data tables (empty: they agree)."""
    models = _audited()
    replay = _Replay(models, session_key(session).chain)
    for entry in _trail(session):
        replay.apply(entry)
    problems: list[str] = []
    for name, model in sorted(models.items()):
        problems.extend(_compare_table(session, name, model, replay))
    logged = set(session.scalars(select(ExportLog.id)))
    for missing in sorted(replay.exports - logged):
        problems.append(f"export_log {missing}: in the audit trail but not in the export log")
    for extra in sorted(logged - replay.exports):
        problems.append(f"export_log {extra}: in the export log but not in the audit trail")
    if len(problems) > _SHOWN:
        problems = [*problems[:_SHOWN], f"... and {len(problems) - _SHOWN} more differences"]
    return problems


def _compare_table(
    session: Session, name: str, model: type[Audited], replay: _Replay
) -> Iterator[str]:
    table = model.__table__  # type: ignore[attr-defined]
    expected = replay.rows[name]
    seen: set[str] = set()
    columns = replay.columns[name]
    for row in session.execute(select(table)):
        seen.add(row.id)
        state = expected.get(row.id, _UNRECORDED)
        if state is _UNRECORDED:
            yield f"{name} {row.id}: not in the audit trail (inserted without audit)"
            continue
        if state is None:
            yield f"{name} {row.id}: deleted in the audit trail but still in the table"
            continue
        assert isinstance(state, dict)
        for column in columns:
            recorded = state.get(column, _UNRECORDED)
            actual = getattr(row, column)
            if column in model.__audit_sealed__:
                if recorded is _UNRECORDED:
                    continue  # a row from before sealing (its trail has no seal to compare)
                actual = sealed(replay.key, text(actual))
            if not _agrees(table.columns[column], recorded, actual):
                # no values in the message: they may be identity (the output may be logged)
                yield (
                    f"{name} {row.id} {column}: the table's value is not the one the audit "
                    "trail last recorded (changed without audit)"
                )
        label = getattr(model, "audit_label", None)
        if callable(label) and replay.labels.get((name, row.id)) != label(row, columns[0]):
            yield f"{name} {row.id}: its form/field is not the one the audit trail recorded"
        site = model.__audit_site__
        if site and replay.sites.get((name, row.id)) != text(getattr(row, site)):
            yield f"{name} {row.id}: its site is not the one the audit trail recorded"
    for missing in sorted(k for k, v in expected.items() if v is not None and k not in seen):
        yield f"{name} {missing}: in the audit trail but missing from the table (deleted without audit)"


def _agrees(column: Column[Any], recorded: object, actual: Any) -> bool:
    if recorded is _UNRECORDED:
        default = column.default
        if default is None:
            return actual is None
        if default.is_callable or default.is_clause_element:
            return True  # a creation timestamp: filled at insert, never in the trail
        return text(getattr(default, "arg", None)) == text(actual)
    if recorded is not None and actual is not None and isinstance(column.type, DateTime):
        recorded_at = _instant(str(recorded))
        return recorded_at is not None and recorded_at == _instant(actual)
    return recorded == text(actual)


def _instant(value: str | datetime) -> datetime | None:
    """The UTC instant of a timestamp (naive: UTC, as SQLite returns them); None if unreadable."""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
