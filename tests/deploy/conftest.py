"""Fixtures: an app on a given database, and a dedicated PostgreSQL database per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator

import psycopg
import pytest
from fastapi import FastAPI

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY

AppOn = Callable[[str], FastAPI]
PG_ADMIN = os.environ.get("CMVCDS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type,unused-ignore]


def pg_dsn(name: str) -> str:
    """libpq form (pg_dump, psql) of database ``name`` on the test server."""
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def pg_url(name: str) -> str:
    """SQLAlchemy form of database ``name``."""
    return pg_dsn(name).replace("postgresql://", "postgresql+psycopg://")


@pytest.fixture
def pg_database() -> Iterator[Callable[[], str]]:
    """Creates fresh databases (``cmvcds_deploy_<random>``); drops them all afterwards."""
    made: list[str] = []

    def make() -> str:
        name = f"cmvcds_deploy_{secrets.token_hex(5)}"
        try:
            pg_admin(f"CREATE DATABASE {name}")
        except psycopg.OperationalError as error:
            pytest.fail(f"PostgreSQL not reachable at 127.0.0.1:5432 (database test): {error}")
        made.append(name)
        return name

    yield make
    for name in made:
        pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def app_on(knowledge: Knowledge) -> Callable[[str], FastAPI]:
    """The app on database ``url`` (no demo cases, the suite's fixed date)."""

    def make(url: str) -> FastAPI:
        settings = Settings(database_url=url, demo_cases=False, mode="demo")
        return create_app(settings, Clinic(knowledge, today=lambda: TODAY))

    return make
