"""A registry user driving a server process over plain HTTP: log in, enrol, save a CRF form.

Each ``User`` keeps one connection (like a browser); nothing is retried, so that a write counts
as acknowledged only when the server answered it (303 for an enrolment; for a form, the 303
back to it with ``saved=1``: Post/Redirect/Get). A form is read before it is saved, as in a
browser: the save carries the version the page was opened at (ADR 0031-fix8b).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from tests.registry.conftest import PASSWORD

SERVER = Path(__file__).with_name("server.py")
FORM = "application/x-www-form-urlencoded"


class Down(Exception):
    """The server did not answer (killed, refused, timed out)."""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float


class Server:
    """``server.py`` as a child process: start, kill -9, restart on the same database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    def start(self) -> Server:
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), self.url], stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the socket listens before the app is ready
            try:
                if request(self.port, "GET", "/api/v1/healthz", timeout=2).status == 200:
                    return self
            except Down:
                time.sleep(0.05)
        raise AssertionError("the server did not come up")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15,
    connection: http.client.HTTPConnection | None = None,
) -> Reply:
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as error:
        conn.close()
        raise Down(f"{method} {path}: {type(error).__name__}: {error}") from None
    finally:
        if connection is None:
            conn.close()
    return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, text,
                 time.monotonic() - started)  # fmt: skip


class User:
    """One logged-in registry user with its own connection."""

    def __init__(self, port: int, username: str, timeout: float = 15) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        credentials = json.dumps({"username": username, "password": PASSWORD}).encode()
        for _ in range(50):  # 503: busy with others' changes, nothing done; ask again
            reply = self.call("POST", "/api/v1/registry/sessions", credentials, "application/json")
            if reply.status != 503:
                break
            time.sleep(0.05)
        assert reply.status == 201, reply
        started = json.loads(reply.body)
        self.token, self.csrf = started["token"], started["csrf_token"]

    def call(self, method: str, path: str, body: bytes | None = None, kind: str = FORM) -> Reply:
        headers = {"Content-Type": kind} if body is not None else {}
        if getattr(self, "token", None):
            headers["Cookie"] = f"cmvcds_registry={self.token}"
        return request(self.port, method, path, body=body, headers=headers, connection=self.conn)

    def post_form(self, path: str, fields: dict[str, str]) -> Reply:
        return self.call(
            "POST", path, urllib.parse.urlencode({"csrf": self.csrf, **fields}).encode()
        )

    def enrol(self, mrn: str) -> tuple[Reply, str | None]:
        """Enrol a mother; the pseudonym when the server answered with the redirect to her."""
        reply = self.post_form("/registry/enrol", {
            "kind": "mother", "hospital_record_number": mrn, "enrolled_on": "2026-01-12",
            "information_sheet_version": "IS-2.1", "signed_on": "2026-01-12",
        })  # fmt: skip
        return reply, enrolled(reply)

    def save_treated(self, pseudonym: str, value: str, reason: str = "") -> Reply:
        """Save the valacyclovir form's ``treated`` field (a change needs ``reason``)."""
        path = f"/registry/subjects/{pseudonym}/valacyclovir_start/valacyclovir"
        page = self.call("GET", path)
        if page.status != 200:
            return page
        opened = dict(re.findall(r'<input type="hidden" name="(version|seen|o_\w+)" value="([^"]*)"',
                                 page.body))  # fmt: skip
        fields = {**opened, "f_treated": value, **({"reason": reason} if reason else {})}
        return self.post_form(path, fields)

    def close(self) -> None:
        self.conn.close()


def enrolled(reply: Reply) -> str | None:
    """The new subject's pseudonym when ``reply`` is the redirect to her page."""
    location = reply.headers.get("location", "")
    if reply.status == 303 and location.startswith("/registry/subjects/"):
        return location.split("/")[3].split("?")[0]
    return None


def saved(reply: Reply) -> bool:
    return reply.status == 303 and "saved=1" in reply.headers.get("location", "")
