"""``/readyz`` on SQLite and on the real PostgreSQL: green only with the database answering, the
registry schema at the Alembic head and the web tables present; red (503, saying what is wrong)
otherwise — and red promptly when the database stops, never hanging."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from cmvcds.adapters.api.readiness import PROBE_TIMEOUT_S, check_readiness, probe_engine
from cmvcds.registry import migrate
from cmvcds.registry.db import make_engine
from tests.deploy.conftest import AppOn, pg_admin, pg_url


def _migrate(url: str, revision: str = "head") -> None:
    engine = make_engine(url)
    migrate.upgrade(engine, revision)
    engine.dispose()


def _ready(client: TestClient) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    response = client.get("/readyz")
    return response.status_code, response.json(), time.monotonic() - started


def _downgrade(url: str, revision: str) -> None:
    from alembic import command

    engine = make_engine(url)
    config = migrate.alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    engine.dispose()


def test_sqlite_migrated_on_start_then_unmigrated(tmp_path: Path, app_on: AppOn) -> None:
    """The app brings a new database to the head on start (the web tables are migrations too);
    a database taken back below the head, or emptied of its revision, is red."""
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    with TestClient(app_on(url)) as client:
        status, body, _ = _ready(client)
        assert status == 200, body
        assert body["status"] == "ready"
        assert body["checks"] == {
            "database": "ok",
            "schema_revision": migrate.head_revision(),
            "schema_head": migrate.head_revision(),
        }
        _downgrade(url, "base")
        status, body, _ = _ready(client)
        assert status == 503
        assert body["status"] == "not ready"
        assert any("not migrated" in p for p in body["problems"])
        # liveness never depends on the database
        assert client.get("/api/v1/healthz").json() == {"status": "ok"}


def test_sqlite_behind_head_and_missing_web_table(tmp_path: Path, app_on: AppOn) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    with TestClient(app_on(url)) as client:
        _downgrade(url, "0004")
        status, body, _ = _ready(client)
        assert status == 503
        assert any("at revision 0004" in p for p in body["problems"])
        _migrate(url)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE cds_feedback"))
        engine.dispose()
        status, body, _ = _ready(client)
        assert status == 503
        assert body["problems"] == ["web tables missing: cds_feedback"]


def test_readyz_is_public_in_production(tmp_path: Path, knowledge: object) -> None:
    """An orchestrator's probe carries no login: /readyz answers in production mode too."""
    from cmvcds.adapters.api.app import create_app
    from cmvcds.adapters.api.service import Clinic
    from cmvcds.adapters.api.settings import Settings

    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    _migrate(url)
    settings = Settings(database_url=url, demo_cases=False, mode="production")
    with TestClient(create_app(settings, Clinic(knowledge))) as client:  # type: ignore[arg-type]
        assert client.get("/readyz").status_code == 200


@pytest.mark.postgres
def test_postgresql_goes_red_when_the_database_stops(
    pg_database: Callable[[], str], app_on: AppOn
) -> None:
    name = pg_database()
    url = pg_url(name)
    _migrate(url)
    with TestClient(app_on(url)) as client:
        status, body, _ = _ready(client)
        assert status == 200, body
        # the database stops accepting connections and its sessions are cut
        pg_admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        pg_admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        status, body, elapsed = _ready(client)
        assert status == 503
        assert body["checks"]["database"] == "unreachable"
        assert "not currently accepting connections" in body["problems"][0]
        assert elapsed < PROBE_TIMEOUT_S + 2
        # back: green again, without restarting the app
        pg_admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        assert _ready(client)[0] == 200
        # the database dropped under the app
        pg_admin(f"DROP DATABASE {name} WITH (FORCE)")
        status, body, elapsed = _ready(client)
        assert status == 503
        assert "does not exist" in body["problems"][0]
        assert elapsed < PROBE_TIMEOUT_S + 2


@pytest.mark.postgres
def test_postgresql_server_that_never_answers_times_out() -> None:
    """A server that never answers: the bounded connect timeout turns the probe red."""
    import socket

    # A listening socket that never accepts: the TCP handshake completes in the kernel's
    # backlog, libpq waits for the server's first message — the "database hung" case.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    try:
        engine = probe_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere")
        started = time.monotonic()
        result = check_readiness(engine, [])
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert not result.ready
    assert result.database == "unreachable"
    assert "timeout" in result.problems[0]
    assert elapsed < PROBE_TIMEOUT_S * 2 + 2  # libpq may try the address twice (IPv4, gss)
