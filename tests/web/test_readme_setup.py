"""The README's "Setting up a real site" block, run as written by a new user (issue 15): only
the database URL (a fresh PostgreSQL database on the local server) and the key directory (a
temporary one) are substituted, the passwords typed at each prompt come from a file on that
command's standard input, and the server it
starts answers the login of both users it created. A README that drifts from the commands fails
here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.live_server import free_port
from tests.registry.conftest import PG_ADMIN, pg_url
from tests.web.journey_steps import wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED_URL = "postgresql://cmvcds@db.example.org/megal_itali"
PASSWORDS = {"admin": "admin-password-1", "rossi": "rossi-password-2"}


def _block() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Setting up a real site") :]
    body = re.search(r"```sh\n(.*?)```", section, re.S)
    assert body, "README: no shell block under 'Setting up a real site'"
    return [re.sub(r"\s+# .*$", "", line).rstrip() for line in body[1].splitlines()]


@pytest.fixture
def database() -> Iterator[str]:
    name = f"readme_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url(name).replace("postgresql+psycopg://", "postgresql://")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _login(url: str, user: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=url, follow_redirects=False) as client:
        form = client.get("/registry/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf
        answer = client.post("/registry/login", data={"username": user, "password": password,
                                                      "csrf": csrf[1]})  # fmt: skip
        if answer.status_code == 303:
            return client.get("/registry/")
        return answer


def test_the_real_site_setup_of_the_readme_runs_as_written(database: str, tmp_path: Path) -> None:
    lines = _block()
    assert lines[0] == f"export CMVCDS_DATABASE_URL={DOCUMENTED_URL}"
    assert lines[-1].startswith("cmvcds serve --no-demo")
    keys = tmp_path / "etc-cmvcds"
    typed = []  # each create-user reads its password (twice) from what is typed at its prompt
    for line in lines[:-1]:
        user = re.match(r"cmvcds registry create-user (\w+)", line)
        if user:
            answers = tmp_path / f"typed-{user[1]}"
            answers.write_text(f"{PASSWORDS[user[1]]}\n" * 2)
            line += f" < {answers}"
        typed.append(line)
    script = "\n".join(["set -e", *typed])
    script = script.replace(DOCUMENTED_URL, database).replace("/etc/cmvcds", str(keys))
    env = dict(os.environ)
    env.pop("CMVCDS_DATABASE_URL", None)
    env.pop("CMVCDS_AUDIT_KEY", None)
    env.pop("CMVCDS_AUDIT_KEY_FILE", None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "site FI01 created" in done.stdout
    assert "user admin (administrator) created" in done.stdout
    assert "user rossi (site_investigator) created" in done.stdout
    key = keys / "audit-key"
    assert oct(key.stat().st_mode & 0o777) == "0o600" and len(key.read_text().strip()) == 64

    port = free_port()
    serve = lines[-1].replace("--host 0.0.0.0", f"--host 127.0.0.1 --port {port}")
    env["CMVCDS_DATABASE_URL"] = database
    env["CMVCDS_AUDIT_KEY_FILE"] = str(key)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(["bash", "-c", f"exec {serve}"], cwd=tmp_path, env=env,
                              stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, server, tmp_path / "serve.log")
        admin = _login(url, "admin", PASSWORDS["admin"])
        assert admin.status_code == 200 and "Users and sites" in admin.text
        rossi = _login(url, "rossi", PASSWORDS["rossi"])
        assert rossi.status_code == 200 and "rossi (site investigator)" in rossi.text
        assert "Users and sites" not in rossi.text
        assert _login(url, "rossi", "not-her-password").status_code == 401
        # no demo user in a real registry
        assert _login(url, "demo-admin", "demo-only-password").status_code == 401
    finally:
        server.terminate()
        server.wait(20)
        log.close()
