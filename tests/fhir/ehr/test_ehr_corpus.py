"""The EHR-export corpus (``cases/*.json``, built by ``generate.py``): every Bundle is valid
against the official FHIR R4 JSON Schema (except the resource each "broken" case breaks on
purpose), and each case, posted to its CDS service as an EHR posts it, gives the cards a
clinician must see — and no warning or critical card nobody asked for.

Further pages of a searchset are served by a real HTTP server on 127.0.0.1 (the case's
``fhirServer``), so paging goes through the same code as with a hospital's FHIR server.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY

HERE = Path(__file__).parent
CASES = sorted((HERE / "cases").glob("*.json"))
SCHEMA = HERE.parent / "fhir.schema.json.gz"
EHR = "https://ehr.example.org/fhir"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def validator() -> jsonschema.Draft6Validator:
    schema = json.loads(gzip.decompress(SCHEMA.read_bytes()))
    return jsonschema.Draft6Validator(schema)


def bundles(item: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    request = item["request"]
    for key, value in (request.get("prefetch") or {}).items():
        yield f"prefetch.{key}", value
    if "draftOrders" in request["context"]:
        yield "context.draftOrders", request["context"]["draftOrders"]
    yield from item["pages"].items()


def test_corpus_is_large_enough_and_covers_the_shapes() -> None:
    names = [p.stem for p in CASES]
    assert len(names) >= 20
    text = "\n".join(p.read_text(encoding="utf-8") for p in CASES)
    for shape in (
        '"313566"',
        '"MedicationAdministration"',
        '"DiagnosticReport"',
        '"relation": "next"',
        '"comparator": "<"',
        '"contained"',
        '"J05AB14"',
        "urn:oid:2.16.840.1.113883.2.9.6.1.5",
    ):
        assert shape in text, shape


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_every_bundle_is_valid_fhir_r4_json(path: Path) -> None:
    item = load(path)
    errors = [
        f"{where}: {error.message[:120]}"
        for where, resource in bundles(item)
        for error in validator().iter_errors(resource)
    ]
    if "broken" in item["name"]:
        assert errors, "the broken case must break the schema"
    else:
        assert errors == []


class _Pages(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, Any]] = {}

    def do_GET(self) -> None:
        page = self.pages.get(self.path)
        body = json.dumps(
            page
            if page is not None
            else {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "not-found"}],
            }
        ).encode()
        self.send_response(200 if page is not None else 404)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[tuple[str, dict[str, Any]]]:
    pages: dict[str, Any] = {}
    handler = type("Pages", (_Pages,), {"pages": pages})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/fhir", pages
    finally:
        server.shutdown()


def _app(tmp_path: Path, knowledge: Knowledge, allowed: list[str]) -> FastAPI:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cmvcds.sqlite3'}",
        demo_cases=False,
        cds_insecure_no_jwt=True,  # the answers are tested here; the JWT in tests/cdshooks
        cds_fhir_servers=allowed,
    )
    return create_app(settings, Clinic(knowledge, today=lambda: TODAY))


@pytest.fixture
def app(tmp_path: Path, knowledge: Knowledge, fhir_server: tuple[str, dict[str, Any]]) -> FastAPI:
    """The installation with the test FHIR server on its allow-list (CMVCDS_CDS_FHIR_SERVERS)."""
    return _app(tmp_path, knowledge, [fhir_server[0]])


def run_case(
    item: dict[str, Any], client: TestClient, fhir_server: tuple[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    base, pages = fhir_server
    text = json.dumps(item["request"]).replace(EHR, base)
    request = json.loads(text)
    if item["pages"]:
        request["fhirServer"] = base
        for url, page in item["pages"].items():
            pages[url.replace(EHR, "/fhir")] = json.loads(json.dumps(page).replace(EHR, base))
    response = client.post(f"/cds-services/{item['service']}", json=request)
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def mismatches(item: dict[str, Any], cards: list[dict[str, Any]]) -> list[str]:
    """What differs between the cards and the expected ones (empty when the case passes)."""
    left = list(cards)
    problems = []
    for want in item["expect"]:
        found = next(
            (
                c
                for c in left
                if c["indicator"] == want["indicator"]
                and want["summary"].lower() in c["summary"].lower()
            ),
            None,
        )
        if found is None:
            problems.append(f"missing {want['indicator']} card with {want['summary']!r}")
        else:
            left.remove(found)
    problems += [
        f"unexpected {c['indicator']} card: {c['summary']}"
        for c in left
        if c["indicator"] != "info"
    ]
    return problems


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_gives_the_expected_cards(
    path: Path, client: TestClient, fhir_server: tuple[str, dict[str, Any]]
) -> None:
    item = load(path)
    cards = run_case(item, client, fhir_server)
    assert mismatches(item, cards) == [], json.dumps(
        [(c["indicator"], c["summary"]) for c in cards], indent=1
    )


def test_pages_of_a_server_off_the_allow_list_are_not_read_and_said_so(
    tmp_path: Path, knowledge: Knowledge, fhir_server: tuple[str, dict[str, Any]]
) -> None:
    """A paged searchset from a fhirServer the installation does not trust: no request leaves,
    the first page is still used, and a card says which search was cut short."""
    item = load(next(p for p in CASES if p.stem == "monitor-paged-searchset"))
    base, pages = fhir_server
    pages.clear()  # nothing may be asked for: an empty server answers 404 to any request
    request = json.loads(json.dumps(item["request"]).replace(EHR, base))
    request["fhirServer"] = base
    with TestClient(_app(tmp_path, knowledge, []), raise_server_exceptions=False) as untrusting:
        services = untrusting.get("/cds-services").json()["services"]
        keys = next(s for s in services if s["id"] == item["service"]).get("prefetch", {})
        for key in keys:  # what the EHR has not sent it says it has not (null): nothing to fetch
            request.setdefault("prefetch", {}).setdefault(key, None)
        response = untrusting.post(f"/cds-services/{item['service']}", json=request)
    assert response.status_code == 200, response.text
    text = json.dumps(response.json()["cards"])
    assert "further pages (link next) not read" in text and "allow-list" in text


def _without(item: dict[str, Any], strangers: set[str]) -> dict[str, Any]:
    """``item`` with the resources whose id is in ``strangers`` taken out of every Bundle."""
    copy = json.loads(json.dumps(item))
    for _, bundle in bundles(copy):
        if isinstance(bundle, dict) and bundle.get("resourceType") == "Bundle":
            kept = [e for e in bundle.get("entry", []) if e["resource"]["id"] not in strangers]
            bundle["entry"] = kept
    return copy


def _as_ours(item: dict[str, Any], strangers: set[str], pid: str) -> dict[str, Any]:
    """``item`` with the strangers' results rewritten as the context patient's (their Patient
    dropped): what the service would have read before PROBE1 D4 was fixed."""
    copy = _without(item, {s for s in strangers if s.endswith("-other")})  # the Patient
    for _, bundle in bundles(copy):
        for entry in bundle.get("entry", []) if isinstance(bundle, dict) else []:
            if entry["resource"]["id"] in strangers:
                entry["resource"]["subject"] = {"reference": f"Patient/{pid}"}
    return copy


def _decisions(cards: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (c["indicator"], c["summary"]) for c in cards if "not of this patient" not in c["summary"]
    ]


@pytest.mark.parametrize(
    ("name", "strangers"),
    [
        (
            "pregnancy-foreign-resources",
            {"us-preg-other-cr", "us-preg-other-cr2", "us-preg-other-igm", "us-preg-other-igg",
             "us-preg-other"},
        ),
        ("dose-foreign-order-and-creatinine", {"us-dose-other-cr", "us-dose-foreign-other-mr"}),
    ],
)  # fmt: skip
def test_another_patients_resources_change_nothing_and_are_named(
    name: str,
    strangers: set[str],
    client: TestClient,
    fhir_server: tuple[str, dict[str, Any]],
) -> None:
    """PROBE1 D4: the cards are those of the record without the other patient's resources, plus
    one warning naming each of them; read as the patient's own, they would change the advice
    (so this test can fail)."""
    item = load(HERE / "cases" / f"{name}.json")
    pid = item["request"]["context"]["patientId"]
    cards = run_case(item, client, fhir_server)
    alone = run_case(_without(item, strangers), client, fhir_server)
    assert _decisions(cards) == _decisions(alone)
    warning = next(c for c in cards if "not of this patient" in c["summary"])
    assert warning["indicator"] == "warning"
    assert f"{len(strangers)} resource(s) not of this patient" in warning["summary"]
    for stranger in strangers:
        assert f"/{stranger} not " in warning["detail"]
    misread = run_case(_as_ours(item, strangers, pid), client, fhir_server)
    assert _decisions(misread) != _decisions(alone)


def test_the_services_own_paged_search_is_read_for_the_context_patient_only(
    client: TestClient, fhir_server: tuple[str, dict[str, Any]]
) -> None:
    """PROBE1 D4 on the service's own FHIR reads: the second page (fetched from ``fhirServer``)
    names the patient by absolute URL on that server (read: the 60000 IU/mL that makes the
    resistance warning is there) and carries another patient's neutrophils 0.3 (not used: read
    as hers they stop valganciclovir: "ANC 300 cells/uL … is below 500")."""
    from tests.fhir.ehr.generate import anc

    item = load(HERE / "cases" / "monitor-paged-searchset.json")
    pid = item["request"]["context"]["patientId"]
    (page,) = item["pages"].values()
    page["entry"][-1]["resource"]["subject"] = {"reference": f"{EHR}/Patient/{pid}"}
    stray = anc("stray-anc", "us-mon-other", "2026-10-12", 0.3)
    stray["subject"] = {"reference": f"{EHR}/Patient/us-mon-other"}
    page["entry"].append({"fullUrl": f"{EHR}/Observation/stray-anc", "resource": stray})
    cards = run_case(item, client, fhir_server)
    summaries = [c["summary"] for c in cards]
    assert any("Suspected antiviral resistance" in s for s in summaries)
    assert not any("ANC" in s for s in summaries)
    warning = next(c for c in cards if "not of this patient" in c["summary"])
    assert "Observation/stray-anc not used: its subject" in warning["detail"]
    assert "is another patient, not Patient/us-mon-paged" in warning["detail"]
    stray["subject"] = {"reference": f"{EHR}/Patient/{pid}"}
    misread = run_case(item, client, fhir_server)
    assert any("ANC 300 cells/uL on 2026-10-12 is below 500" in c["summary"] for c in misread)
