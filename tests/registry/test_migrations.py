"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from cmvcds.registry import migrate
from cmvcds.registry.db import Registry
from cmvcds.registry.models import AuditEntry, Base
from cmvcds.registry.web_tables import metadata as web_metadata


def test_migrated_schema_matches_the_models(registry: Registry) -> None:
    assert migrate.current_revision(registry.engine) == migrate.head_revision() == "0008"
    with registry.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        diff = compare_metadata(context, [Base.metadata, web_metadata])  # type: ignore[arg-type]
    assert diff == []


def test_upgrade_is_idempotent(registry: Registry) -> None:
    assert migrate.upgrade(registry.engine) == "0008"
    with registry.engine.connect() as connection:
        assert connection.execute(text("SELECT seq FROM audit_head")).scalar_one() == 0


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    registry = Registry(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with registry.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    registry.dispose()


def _legacy_entries(registry: Registry, count: int) -> None:
    """Entries as written before the chain was keyed (plain SHA-256), straight into the trail."""
    from cmvcds.registry import audit
    from cmvcds.registry.models import GENESIS

    prev = GENESIS
    with registry.engine.begin() as connection:
        for seq in range(1, count + 1):
            fields = {
                "seq": seq, "at": f"2026-11-0{seq}T10:00:00.000000+00:00", "user_id": None,
                "username": "system", "site_id": None, "action": "create", "entity": "sites",
                "entity_id": f"{seq:032x}", "field": "note", "old_value": None,
                "new_value": f"legacy {seq}", "reason": None, "prev_hash": prev,
            }  # fmt: skip
            fields["hash"] = prev = audit.entry_hash(fields, None)
            connection.execute(
                text(
                    f"INSERT INTO audit_entries ({', '.join(fields)}) "
                    f"VALUES ({', '.join(':' + k for k in fields)})"
                ),
                fields,
            )
        connection.execute(
            text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": count, "h": prev}
        )


@pytest.mark.tampers
def test_a_pre_key_trail_verifies_as_legacy_up_to_the_marker(registry: Registry) -> None:
    """Migration 0004 keeps an existing unkeyed trail: legacy up to ``keyed_from``, keyed after;
    the first keyed entry anchors the legacy part (re-hashing it no longer links up)."""
    from alembic import command
    from sqlalchemy.orm import Session

    from cmvcds.errors import AuditIntegrityError
    from cmvcds.registry import audit
    from cmvcds.registry.access import SYSTEM
    from cmvcds.registry.services import study

    config = migrate.alembic_config(registry.engine)
    with registry.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    _legacy_entries(registry, 3)
    assert migrate.upgrade(registry.engine) == "0008"
    with registry.session(SYSTEM) as s:
        assert audit.verify(s).keyed_from == 4
        study.create_site(s, SYSTEM, code="PD01", name="Padova")
    with registry.session(SYSTEM) as s:
        report = audit.verify(s)
        assert report.entries > 3 and report.keyed_from == 4
    # an attacker rewrites a legacy entry and re-hashes the legacy part without the key
    with registry.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER audit_entries_no_update ON audit_entries"))
        else:
            connection.execute(text("DROP TRIGGER audit_entries_no_update"))
        connection.execute(text("UPDATE audit_entries SET new_value = 'forged' WHERE seq = 2"))
    with Session(registry.engine) as s:
        rows = {r.seq: r for r in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))}
    prev = rows[1].hash
    with registry.engine.begin() as connection:
        for seq in (2, 3):
            fields = {n: getattr(rows[seq], n) for n in audit.HASHED_FIELDS}
            fields["prev_hash"] = prev
            prev = audit.entry_hash(fields, None)
            connection.execute(
                text("UPDATE audit_entries SET prev_hash = :p, hash = :h WHERE seq = :s"),
                {"p": fields["prev_hash"], "h": prev, "s": seq},
            )
    with (
        pytest.raises(AuditIntegrityError, match="entry 4: previous hash"),
        registry.session(SYSTEM) as s,
    ):
        audit.verify(s)


def test_the_head_trigger_refuses_to_move_the_keyed_marker(registry: Registry) -> None:
    with pytest.raises(DBAPIError, match="append-only"), registry.engine.begin() as connection:
        connection.execute(text("UPDATE audit_head SET keyed_from = 1000"))
