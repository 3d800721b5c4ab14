"""The registry's JSON API under schemathesis with a real login (issue 17: "schemathesis (all
checks) over the API with the registry's auth: 0 server errors").

A study with one site, one enrolled subject and a user of each role; every registry operation is
called with a bearer token of a site investigator (who sees the subject) and of a statistician
(who sees no identity), with every schemathesis check on.
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
from cmvcds.registry.access import SYSTEM, Actor
from cmvcds.registry.db import Registry
from cmvcds.registry.roles import Role
from cmvcds.registry.services import study
from tests.conftest import TODAY
from tests.registry.conftest import PASSWORD
from tests.registry.helpers import enrol

_folder = Path(tempfile.mkdtemp(prefix="cmvcds-schemathesis-registry-"))
_URL = f"sqlite:///{_folder / 'db.sqlite3'}"
APP = create_app(
    Settings(database_url=_URL, demo_cases=False), Clinic(load_knowledge(), today=lambda: TODAY)
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(
    path_regex=r"^/api/v1/registry/"
)
ROLES = ("site_investigator", "statistician")


def _study() -> dict[str, str]:
    """The study's users, and a bearer token for each role of ROLES."""
    registry = Registry(_URL)
    migrate.upgrade(registry.engine)
    with registry.session(SYSTEM, reason="schemathesis study") as s:
        site = study.create_site(s, SYSTEM, code="PD01", name="Padova")
        users = {
            role: study.create_user(s, SYSTEM, username=role, password=PASSWORD, role=role,
                                    site_id=site.id if role.startswith("site_") else None)
            for role in ROLES
        }  # fmt: skip
        site_id = site.id
    investigator = Actor(users["site_investigator"].id, "site_investigator",
                         Role.SITE_INVESTIGATOR, site_id)  # fmt: skip
    with registry.session(investigator, reason="enrol") as s:
        enrol(s, investigator, mrn="MRN-SCHEMA-1")
    registry.dispose()
    with TestClient(APP) as client:
        tokens = {}
        for role in ROLES:
            reply = client.post("/api/v1/registry/sessions",
                                json={"username": role, "password": PASSWORD})  # fmt: skip
            assert reply.status_code == 201, reply.text
            tokens[role] = reply.json()["token"]
    return tokens


TOKENS = _study()


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_registry_api_with_a_login_has_no_server_error(
    case: schemathesis.Case,  # type: ignore[type-arg]
    role: str,
) -> None:
    excluded = []
    if case.path == "/api/v1/registry/sessions":
        # schemathesis 4.32 draws "positive" strings for this body without the published
        # ``pattern`` (seen: U+001E in a username), so the reader's documented refusal of control
        # characters would count as "valid data rejected"; every other check stays on.
        excluded.append(positive_data_acceptance)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKENS[role]}"}, excluded_checks=excluded
    )
