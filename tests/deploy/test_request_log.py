"""One JSON log line per request with a request id; nothing identifying ever reaches the log.

In-process (the app's middleware, formatted by the shipped ``JsonFormatter``) and from the
outside (``cmvcds serve`` in a subprocess, its real stderr)."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from cmvcds.adapters.api.logs import JsonFormatter
from tests.deploy.conftest import AppOn

ROOT = Path(__file__).resolve().parents[2]
# Identifiers a careless log would leak: hospital record number, patient id, a name, a cookie.
SECRETS = ["HRN-4471-0099", "PID-77341-ZZ", "Rossi Maria", "sess-cookie-5c1f", "Bearer tok-91"]


def _case_with_identity() -> Any:
    case = yaml.safe_load((ROOT / "examples" / "congenital.yaml").read_text())
    case["id"] = "PID-77341-ZZ"
    case["note"] = "Rossi Maria"  # an unknown field: refused (422), and still not logged
    return json.loads(json.dumps(case, default=str))  # dates as ISO strings


def _requests(client: httpx.Client | TestClient) -> list[httpx.Response]:
    headers = {"Cookie": "cmvcds_registry=sess-cookie-5c1f", "Authorization": "Bearer tok-91"}
    return [
        client.get(
            "/api/v1/knowledge/search",
            params={"q": "valganciclovir", "mrn": "HRN-4471-0099"},
            headers={**headers, "X-Request-ID": "proxy-abc.123_x"},
        ),
        client.post(
            "/api/v1/assess?hrn=HRN-4471-0099", json=_case_with_identity(), headers=headers
        ),
        client.get("/api/v1/knowledge/sources/PID-77341-ZZ", headers=headers),
        client.get("/no/such/page", headers={"X-Request-ID": "bad id with spaces\tPID-77341-ZZ"}),
    ]


def test_one_line_per_request_with_request_id(
    app_on: AppOn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(app_on(f"sqlite:///{tmp_path / 'r.sqlite3'}")) as client:
        caplog.set_level(logging.INFO, logger="cmvcds")
        responses = _requests(client)
    formatter = JsonFormatter()
    access = [r for r in caplog.records if r.name == "cmvcds.access"]
    lines = [json.loads(formatter.format(r)) for r in access]
    assert len(lines) == len(responses)
    assert [line["method"] for line in lines] == ["GET", "POST", "GET", "GET"]
    # the route's template, never the id typed into the URL, never the query string
    assert [line["path"] for line in lines] == [
        "/api/v1/knowledge/search",
        "/api/v1/assess",
        "/api/v1/knowledge/sources/{source_id}",
        "/no/such/page",
    ]
    assert [line["status"] for line in lines] == [r.status_code for r in responses]
    assert responses[2].status_code == 404
    for line, response in zip(lines, responses, strict=True):
        assert line["request_id"] == response.headers["X-Request-ID"]
        assert line["duration_ms"] >= 0
        assert set(line) == {
            "time", "level", "logger", "message", "request_id",
            "method", "path", "status", "duration_ms",
        }  # fmt: skip
    assert lines[0]["request_id"] == "proxy-abc.123_x"  # the proxy's id, kept
    generated = lines[3]["request_id"]  # a hostile header is replaced by a fresh token
    assert len(generated) == 32 and int(generated, 16) >= 0
    text = "\n".join(formatter.format(r) for r in caplog.records)
    for secret in SECRETS:
        assert secret not in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_writes_json_lines_without_identity(tmp_path: Path) -> None:
    """The real server's stderr: JSON lines from the request log, no identifier anywhere."""
    port = _free_port()
    env = {
        **os.environ,
        "CMVCDS_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}",
        "CMVCDS_AUDIT_CHECKPOINTS": str(tmp_path / "checkpoints.jsonl"),
    }
    cli = Path(sys.executable).parent / "cmvcds"
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as sink:
        server = subprocess.Popen(
            [str(cli), "serve", "--demo", "--port", str(port)],
            cwd=ROOT, env=env, stdout=sink, stderr=sink,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert server.poll() is None, stderr.read_text()
                assert time.monotonic() < deadline, "server did not become ready"
                time.sleep(0.3)
            with httpx.Client(base_url=base, timeout=30) as client:
                responses = _requests(client)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=20)
    text = stderr.read_text()
    for secret in SECRETS:
        assert secret not in text
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [r for r in records if r["logger"] == "cmvcds.access"]
    tail = access[-len(responses) :]
    assert [r["status"] for r in tail] == [r.status_code for r in responses]
    assert [r["request_id"] for r in tail] == [r.headers["X-Request-ID"] for r in responses]
    # every line uvicorn or cmvcds logs is JSON (the CLI's own start-up lines are plain text)
    for line in text.splitlines():
        assert line.startswith("{") or line.startswith("cmvcds: "), line


def test_log_lines_are_written_in_blocks_and_within_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``BlockStreamHandler``: info lines wait (one write for many), a warning is written at
    once with those before it, and nothing waits longer than ``FLUSH_S``."""
    import io

    from cmvcds.adapters.api import logs

    monkeypatch.setattr(logs, "FLUSH_S", 0.05)
    stream = io.StringIO()
    handler = logs.BlockStreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("cmvcds.test-block-handler")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        logger.info("first")
        logger.info("second")
        assert stream.getvalue() == ""
        logger.warning("third")
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert [line["message"] for line in lines] == ["first", "second", "third"]
        logger.info("fourth")
        deadline = time.monotonic() + 5
        while "fourth" not in stream.getvalue():
            assert time.monotonic() < deadline, "an info line waited more than FLUSH_S"
            time.sleep(0.01)
        assert stream.getvalue().endswith("\n")
    finally:
        logger.removeHandler(handler)


def test_a_line_is_the_same_json_as_before() -> None:
    """orjson writes the line; its value is ``json.dumps``'s (a value orjson cannot write goes
    through ``json.dumps``)."""
    record = logging.makeLogRecord(
        {"name": "cmvcds.access", "levelno": 20, "levelname": "INFO", "msg": "request è",
         "method": "GET", "path": "/x", "status": 200, "duration_ms": 1.5, "request_id": "r1"}
    )  # fmt: skip
    line = JsonFormatter().format(record)
    assert json.loads(line)["message"] == "request è"
    record.status = 2**70  # beyond orjson's integers
    assert json.loads(JsonFormatter().format(record))["status"] == 2**70
