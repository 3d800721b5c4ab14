"""The EHR (authorization + FHIR server over TLS) and cmvcds, both served on 127.0.0.1."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY
from tests.live_server import serving
from tests.smart.ehr import Ehr, self_signed

CORPUS = Path(__file__).resolve().parents[1] / "fhir" / "ehr" / "cases"
CLIENT_ID = "cmvcds-at-test-ehr"


def corpus_case(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((CORPUS / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class Site:
    ehr: Ehr
    cmvcds: str  # base URL of cmvcds
    ca: Path  # the EHR's certificate (cmvcds trusts it through CMVCDS_FHIR_CA_FILE)
    database: str

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


def _site(tmp_path: Path, knowledge: Knowledge, **settings: object) -> Iterator[Site]:
    cert, key = self_signed(tmp_path)
    ehr = Ehr(client_id=CLIENT_ID, redirect_uri="")
    with serving(ehr.app(), ssl_certfile=str(cert), ssl_keyfile=str(key)) as ehr_base:
        ehr.base = ehr_base
        database = f"sqlite:///{tmp_path / 'cmvcds.sqlite3'}"
        options: dict[str, object] = {
            "database_url": database,
            "demo_cases": False,
            "mode": "production",
            "smart_client_id": CLIENT_ID,
            "smart_fhir_servers": [ehr.fhir],
            "fhir_ca_file": cert,
            "cds_insecure_no_jwt": True,
            **settings,
        }
        app = create_app(Settings(**options), Clinic(knowledge, today=lambda: TODAY))  # type: ignore[arg-type]
        with serving(app) as base:
            ehr.redirect_uri = f"{base}/smart/callback"
            yield Site(ehr, base, cert, database)


@pytest.fixture
def site(tmp_path: Path, knowledge: Knowledge) -> Iterator[Site]:
    """The EHR holding the corpus's pregnancy record (US Core serology, seroconversion) and a
    production-mode cmvcds registered with it as a SMART app."""
    case = corpus_case("pregnancy-igg-presence-13949")
    for built in _site(tmp_path, knowledge):
        built.ehr.load(case["request"]["prefetch"])
        yield built
