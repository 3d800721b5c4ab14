"""The whole app's request-body guard and response headers (``guard.py``, ``headers.py``)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from cmvcds.adapters.api.headers import CONTENT_SECURITY_POLICY
from tests.web.test_pages import FORM

PAGES = ["/", "/cases/new", "/cases/new?context=congenital", "/dose", "/resistance", "/knowledge"]


def test_security_headers_on_pages_api_and_errors(client: TestClient) -> None:
    for url in [*PAGES, "/api/v1/version", "/no/such/page", "/cds-services"]:
        response = client.get(url)
        headers = response.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, url
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store", url
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    script = re.search(r"script-src ([^;]*)", CONTENT_SECURITY_POLICY)
    assert script and script.group(1) == "'self'"  # no unsafe-inline, no unsafe-eval
    static = client.get("/static/cmvcds.css")
    assert static.status_code == 200 and static.headers.get("cache-control") != "no-store"


def test_a_stored_case_page_and_its_json_are_not_cached(client: TestClient) -> None:
    location = client.post("/cases", data=FORM, follow_redirects=False).headers["location"]
    assert location.startswith("/cases/")  # relative: never built from the Host header
    for url in (location, f"{location}/assessment.json", f"{location}/case.yaml"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"


def test_pages_need_no_inline_script(client: TestClient) -> None:
    """What the CSP forbids is not on any page: no inline <script>, no on*= handler."""
    location = client.post("/cases", data=FORM, follow_redirects=False).headers["location"]
    for url in [*PAGES, location]:
        page = client.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert not re.search(r"\son[a-z]+\s*=", page), url


def test_a_forged_host_never_reaches_a_redirect(client: TestClient) -> None:
    response = client.get("/knowledge/", headers={"host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 307  # Starlette's trailing-slash redirect, built from Host
    assert response.headers["location"] == "/knowledge"
    created = client.post(
        "/cases", data=FORM, headers={"host": "evil.example"}, follow_redirects=False
    )
    assert created.status_code == 303
    assert "evil.example" not in created.headers["location"]


def test_an_announced_body_over_the_limit_is_413_before_it_is_read(client: TestClient) -> None:
    api = client.post(
        "/api/v1/assess",
        content=b"{}",
        headers={"content-type": "application/json", "content-length": "999999999"},
    )
    assert api.status_code == 413
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["title"] == "Request too large"
    page = client.post(
        "/cases/validate",
        content=b"x=1",
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "content-length": "999999999",
        },
    )
    assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
    assert "larger than the 262,144 bytes accepted here" in page.text
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_a_chunked_body_is_cut_at_the_limit(client: TestClient) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(1000):
            sent += 65536
            yield b"x" * 65536

    response = client.post(
        "/cases/validate",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_a_huge_crafted_form_is_refused(client: TestClient) -> None:
    """The audit's denial of service: one form post of many megabytes blocked the server."""
    fields = "&".join(f"observations[{i}].code=cmv_igg" for i in range(200_000))
    response = client.post(
        "/cases",
        content=fields.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_json_bodies_are_read_strictly_on_every_route(client: TestClient) -> None:
    for url, body, expect in [
        ("/api/v1/dose", b'{"drug": "valganciclovir", "drug": "x"}', "duplicate key 'drug'"),
        ("/api/v1/resistance", b'{"threshold": NaN}', "NaN is not a number JSON accepts"),
        ("/cds-services/cmv-pregnancy-valacyclovir", b"[" * 1000, "nested more than 40"),
        ("/api/v1/assess", '{"id": "é"}'.encode("latin-1"), "not UTF-8"),
    ]:
        response = client.post(url, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, (url, response.text)
        problem = response.json()
        assert expect in problem["detail"] and len(problem["errors"]) == 1


def test_a_whole_genome_fasta_passes_the_guard(client: TestClient) -> None:
    """The resistance API's own bound (2 MB of FASTA) applies, not a case's string bound."""
    fasta = ">genome\n" + "ACGT" * 60_000
    response = client.post("/api/v1/resistance", json={"fasta": fasta})
    assert response.status_code != 413
    assert "characters (at most" not in response.text


def test_a_slow_body_is_cut_off_without_reaching_the_app() -> None:
    """A client that trickles its body is answered 408 after the timeout; the app never runs."""
    import anyio

    from cmvcds.adapters.api.guard import BodyGuard

    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])

    async def slow_receive() -> dict[str, Any]:
        await anyio.sleep(0.05)
        return {"type": "http.request", "body": b"x", "more_body": True}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/assess", "headers": []}
    started = time.monotonic()
    loop = asyncio.new_event_loop()  # its own loop: the thread's current one stays as it was
    try:
        loop.run_until_complete(BodyGuard(app, body_timeout_s=0.3)(scope, slow_receive, send))
    finally:
        loop.close()
    assert time.monotonic() - started < 2
    assert reached == []
    assert sent[0]["status"] == 408
    assert b"did not arrive within 0.3 s" in sent[1]["body"]


def test_a_case_key_past_64_bits_is_a_404_not_a_500(client: TestClient) -> None:
    for url in ["/cases/99999999999999999999", "/cases/9223372036854775808/assessment.json"]:
        response = client.get(url)
        assert response.status_code == 404, url


def test_a_body_that_is_not_json_is_415_on_every_api_route(client: TestClient) -> None:
    """probe8 R6: a YAML case file posted to the API was refused as "a case must be a mapping";
    `curl -d @case.json` (form-encoded by default) was read as a form. Every API and CDS Hooks
    body is JSON, so another content type is named and JSON asked for; pages keep their forms."""
    yaml_case = b"id: probe8\ncontext: pregnancy\n"
    for url, media in [
        ("/api/v1/assess", "application/yaml"),
        ("/api/v1/dose", "application/x-www-form-urlencoded"),
        ("/api/v1/resistance", "text/plain"),
        ("/cds-services/cmv-pregnancy-valacyclovir", "text/yaml; charset=utf-8"),
    ]:
        response = client.post(url, content=yaml_case, headers={"content-type": media})
        assert response.status_code == 415, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        detail = response.json()["detail"]
        assert media.split(";")[0] in detail and "application/json" in detail
    fhir_json = client.post(
        "/api/v1/assess", content=b"{}", headers={"content-type": "application/fhir+json"}
    )
    assert fhir_json.status_code == 422  # read as JSON, refused for its content


def test_a_json_body_sent_without_a_content_type_is_read_as_json(client: TestClient) -> None:
    """review9b #7: the guard read a body without a content type as JSON, but FastAPI left it as
    bytes and answered 422 "Input should be a valid dictionary" to a valid dose request."""
    request = {
        "drug": "valganciclovir",
        "indication": "induction",
        "patient": {"age_years": 54, "sex": "male", "weight_kg": 80, "creatinine": 1.8},
    }
    sent = json.dumps(request).encode()
    typed = client.post("/api/v1/dose", content=sent, headers={"content-type": "application/json"})
    for bare in (
        client.post("/api/v1/dose", content=sent),  # no header at all
        client.post("/api/v1/dose", content=sent, headers={"content-type": ""}),
    ):
        assert bare.status_code == 200, bare.text
        assert bare.json()["regimen"] == typed.json()["regimen"]
    assert typed.status_code == 200, typed.text
