"""An app on a temporary SQLite database, assessed on the suite's fixed date."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY


@pytest.fixture
def app(tmp_path: Path, knowledge: Knowledge) -> FastAPI:
    # CDS Hooks without a JWT, as the demo: these tests are about the answers; the JWT checks
    # are tests/cdshooks/test_jwt.py's, on an app with verification on (the default)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cmvcds.sqlite3'}",
        demo_cases=False,
        cds_insecure_no_jwt=True,
    )
    return create_app(settings, Clinic(knowledge, today=lambda: TODAY))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
