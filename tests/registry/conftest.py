"""Fixtures: a fresh, migrated registry per test, on SQLite and on PostgreSQL.

Each run creates its own PostgreSQL database (``cmvcds_test_<random>``, through the ``test``
database) and drops it at the end, so parallel CI runs never collide; each test has its own
freshly migrated schema in it. SQLite tests copy a database file migrated once per run.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher

from cmvcds.registry import migrate, security
from cmvcds.registry.access import SYSTEM, Actor
from cmvcds.registry.db import Registry, make_engine
from cmvcds.registry.models import Role
from cmvcds.registry.services import study

# Cheap argon2 parameters in tests only (the real cost is the library's default).
security.HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)

PASSWORD = "correct horse 9"
PG_ADMIN = os.environ.get("CMVCDS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
RUN = secrets.token_hex(4)


def pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name


def pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "registry.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


class SchemaPool:
    """Fresh, migrated PostgreSQL schemas, prepared ahead in background threads.

    Every test gets its own schema (``search_path``) in this run's own database; migrating a
    schema is what a test would wait for, so a few are always being prepared ahead.
    """

    AHEAD = 4

    def __init__(self, database: str) -> None:
        self.database = database
        # The real migrations, as Alembic writes them for PostgreSQL (its online mode is not
        # thread-safe; the script is run in each new schema by plain connections).
        self.script = migrate.upgrade_sql(pg_url(database))
        self.dsn = PG_ADMIN.rsplit("/", 1)[0] + "/" + database
        self.executor = ThreadPoolExecutor(max_workers=self.AHEAD)
        self.ready: deque[Future[str]] = deque()

    def _prepare(self) -> str:
        schema = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")  # type: ignore[arg-type]
            connection.execute(f"SET search_path TO {schema}")  # type: ignore[arg-type]
            connection.execute(self.script)  # type: ignore[arg-type]
        return schema

    def url(self, schema: str) -> str:
        return pg_url(self.database) + f"?options=-csearch_path%3D{schema}"

    def take(self) -> str:
        while len(self.ready) <= self.AHEAD:
            self.ready.append(self.executor.submit(self._prepare))
        return self.ready.popleft().result()

    def drop_later(self, schema: str) -> None:
        """Drop a used schema in the background (the database is dropped at the end anyway)."""
        self.executor.submit(self._drop, schema)

    def _drop(self, schema: str) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")  # type: ignore[arg-type]

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def pg_pool() -> Iterator[SchemaPool]:
    name = f"cmvcds_test_{RUN}"
    try:
        pg_admin(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as error:  # the server is on every machine, CI included
        pytest.fail(f"PostgreSQL not reachable at 127.0.0.1:5432 (database test): {error}")
    pool = SchemaPool(name)
    yield pool
    pool.close()
    pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "registry.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    pool = request.getfixturevalue("pg_pool")
    schema = pool.take()
    yield pool.url(schema)
    pool.drop_later(schema)


BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from _fresh_url(request, tmp_path)


@pytest.fixture
def registry(request: pytest.FixtureRequest, database_url: str) -> Iterator[Registry]:
    """A fresh registry; after the test, its data tables must still match the trail's replay
    (whatever the test did through the application), unless the test tampers on purpose."""
    reg = Registry(database_url)
    yield reg
    if request.node.get_closest_marker("tampers") is None:
        from cmvcds.registry.audit_replay import replay_problems

        with reg.session(SYSTEM) as session:
            assert replay_problems(session) == [], "the data tables no longer match the trail"
    reg.dispose()


class World:
    """Two sites with a user of each role; ids and actors ready for tests."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        with registry.session(SYSTEM) as s:
            self.site_a = study.create_site(s, SYSTEM, code="FI01", name="Careggi, Firenze").id
            self.site_b = study.create_site(s, SYSTEM, code="BO01", name="Sant'Orsola, Bologna").id
        self.actors: dict[str, Actor] = {}
        with registry.session(SYSTEM) as s:
            for name, role, site in [
                ("entry_a", Role.SITE_DATA_ENTRY, self.site_a),
                ("pi_a", Role.SITE_INVESTIGATOR, self.site_a),
                ("entry_b", Role.SITE_DATA_ENTRY, self.site_b),
                ("monitor", Role.MONITOR, None),
                ("dm", Role.DATA_MANAGER, None),
                ("stat", Role.STATISTICIAN, None),
                ("admin", Role.ADMINISTRATOR, None),
            ]:
                user = study.create_user(
                    s, SYSTEM, username=name, password=PASSWORD, role=role, site_id=site
                )
                self.actors[name] = study.actor_for(user)

    def __getattr__(self, name: str) -> Actor:
        try:
            return self.__dict__["actors"][name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture
def world(registry: Registry) -> World:
    return World(registry)


@pytest.fixture
def site(world: World) -> Any:
    """A test client of the registry pages with one subject at each site (``web.make_site``)."""
    from .web import make_site

    return make_site(world)


@pytest.fixture
def cohort(world: World) -> dict[str, str]:
    """Site A: one kept pregnancy (newborn, enrolment, an adverse event), one to be withdrawn."""
    from .helpers import cohort_of

    return cohort_of(world)
