"""Shared fixtures: the shipped knowledge pack and a case builder from a baseline mapping."""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from cmvcds.domain.case import Case, parse_case
from cmvcds.knowledge import Knowledge, load_knowledge

# The registry's audit key lives outside the database (registry/audit_key.py); the tests and
# the servers they start share this one (a PostgreSQL registry refuses to write without one).
os.environ.setdefault("CMVCDS_AUDIT_KEY", "test-only audit key, never used in a deployment")
# The compiled-pack cache (knowledge/cache.py) of the tests and the processes they start lives in
# one folder per run, so the many edited packs of the tests never fill the user's ~/.cache.
os.environ.setdefault("CMVCDS_CACHE_DIR", tempfile.mkdtemp(prefix="cmvcds-test-cache-"))

#: The "real" today of the test suite; cases are assessed on or before it.
TODAY = date(2026, 11, 21)


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge()


@pytest.fixture
def make_case(knowledge: Knowledge) -> Callable[[dict[str, Any]], Case]:
    def build(raw: dict[str, Any]) -> Case:
        return parse_case(copy.deepcopy(raw), knowledge, today=TODAY)

    return build
