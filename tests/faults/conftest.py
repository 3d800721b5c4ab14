"""Fault-injection fixtures: the registry tests' databases (SQLite and PostgreSQL) and users,
and a real server process (``server.py``) that the tests start, kill and restart."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from cmvcds.registry.db import Registry
from tests.registry.conftest import (  # noqa: F401  (fixtures shared with the registry tests)
    BACKENDS,
    RUN,
    SchemaPool,
    World,
    database_url,
    pg_admin,
    registry,
    sqlite_template,
    world,
)

from .client import Server


@pytest.fixture(scope="session")
def pg_pool() -> Iterator[SchemaPool]:
    """This suite's own PostgreSQL database (the registry tests' one may exist in the same run)."""
    name = f"cmvcds_faults_{RUN}"
    pg_admin(f"CREATE DATABASE {name}")
    pool = SchemaPool(name)
    yield pool
    pool.close()
    pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module", params=BACKENDS)
def module_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One fresh registry with the two sites' users for a whole module (a server start is slow)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("faults") / "registry.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_pool").url(request.getfixturevalue("pg_pool").take())
    reg = Registry(url)
    yield World(reg)
    reg.dispose()


@pytest.fixture(scope="module")
def server(module_world: World) -> Iterator[Server]:
    """The real server on ``module_world``'s database, for every test of a module."""
    started = Server(module_world.registry.url).start()
    yield started
    started.kill()
