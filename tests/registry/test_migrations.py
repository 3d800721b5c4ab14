"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from cmvcds.registry import migrate
from cmvcds.registry.db import Registry
from cmvcds.registry.models import Base


def test_migrated_schema_matches_the_models(registry: Registry) -> None:
    assert migrate.current_revision(registry.engine) == migrate.head_revision() == "0004"
    with registry.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(registry: Registry) -> None:
    assert migrate.upgrade(registry.engine) == "0004"
    with registry.engine.connect() as connection:
        assert connection.execute(text("SELECT seq FROM audit_head")).scalar_one() == 0


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    registry = Registry(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with registry.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    registry.dispose()
