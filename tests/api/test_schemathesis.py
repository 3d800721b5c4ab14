"""Property-based tests of the OpenAPI: no server error, every response fits its schema.

Bounded (a few dozen examples per operation) so that it stays well under a minute.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.knowledge import load_knowledge
from cmvcds.registry import migrate
from cmvcds.registry.db import make_engine
from tests.conftest import TODAY

_folder = Path(tempfile.mkdtemp(prefix="cmvcds-schemathesis-"))
_engine = make_engine(f"sqlite:///{_folder / 'db.sqlite3'}")
migrate.upgrade(_engine)  # as `cmvcds serve` does before it listens: /readyz is then 200
_engine.dispose()
APP = create_app(
    Settings(database_url=f"sqlite:///{_folder / 'db.sqlite3'}", demo_cases=False),
    Clinic(load_knowledge(), today=lambda: TODAY),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _ask_index_built_first() -> None:
    """The first question builds Ask's search index (seconds on a loaded machine): build it
    before schemathesis times each call (10 s), so that a slow first build is not a failure."""
    answer = TestClient(APP).post("/api/v1/ask", json={"question": "What is the treatment for CMV?"})
    assert answer.status_code == 200, answer.text


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
    # A schema-valid case may still be refused (an implausible value, a date after assessed_on):
    # the parser's checks go beyond a JSON schema, so "valid data accepted" is not asked here.
    excluded = [positive_data_acceptance]
    case.call_and_validate(excluded_checks=excluded)
