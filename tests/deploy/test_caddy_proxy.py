"""The shipped ``deploy/Caddyfile`` run for real by Debian's ``caddy`` in front of cmvcds, both on
this machine: TLS from Caddy's internal CA, ``/readyz`` and a CDS Hooks call signed as the
sandbox signs (ES384) through the proxy, and cmvcds seeing the proxy's forwarded scheme and host
(the JWT audience it checks and the links on its cards are ``https://localhost:<port>/…``) and
the proxy's ``X-Request-ID``. The proxy's access log keeps no query string and no Authorization.

Docker is not on this machine, so ``docker compose up`` itself is not run; this runs the same
Caddyfile the compose ``proxy`` service mounts, its defaults overridden by the environment only
(ports, upstream, admin API off). Skipped, saying why, where caddy is not installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.knowledge import Knowledge
from tests.cdshooks.test_jwt import SANDBOX, SERVICE, Keys
from tests.cdshooks.test_services import load
from tests.conftest import TODAY
from tests.deploy.conftest import pg_admin, pg_url
from tests.deploy.test_readyz import _migrate
from tests.live_server import free_port, serving

ROOT = Path(__file__).resolve().parents[2]
CADDY = shutil.which("caddy")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

pytestmark = pytest.mark.skipif(
    CADDY is None,
    reason="caddy is not installed (Debian package `caddy`): the compose TLS proxy is not run",
)


def _wait_ready(url: str, root: Path, deadline_s: float = 45) -> ssl.SSLContext:
    """The internal CA's root once Caddy made it, after the proxied /readyz first answers."""
    deadline = time.monotonic() + deadline_s
    while True:
        if root.exists():
            context = ssl.create_default_context(cafile=str(root))
            try:
                if httpx.get(url, verify=context, timeout=5).status_code in (200, 503):
                    return context
            except (httpx.HTTPError, ssl.SSLError):
                pass
        assert time.monotonic() < deadline, "Caddy did not serve in time (see its log)"
        time.sleep(0.3)


@contextmanager
def behind_caddy(
    tmp_path: Path, knowledge: Knowledge, keys: Keys, database_url: str
) -> Iterator[tuple[str, str, Path]]:
    """cmvcds on 127.0.0.1 (JWT verification on, the sandbox trusted, on ``database_url``) behind
    the shipped Caddyfile; yields the proxy's https and http base URLs and Caddy's log file."""
    (tmp_path / "jwks.json").write_text(json.dumps(keys.jwks))
    settings = Settings(
        database_url=database_url,
        demo_cases=False,
        mode="demo",
        cds_trusted_issuers={SANDBOX: str(tmp_path / "jwks.json")},
    )
    app = create_app(settings, Clinic(knowledge, today=lambda: TODAY))
    https_port, http_port = free_port(), free_port()
    with serving(app) as upstream:
        env = {
            **os.environ,
            "HOME": str(tmp_path),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "CMVCDS_HOSTNAME": "localhost",
            "CMVCDS_UPSTREAM": upstream.removeprefix("http://"),
            "CADDY_HTTPS_PORT": str(https_port),
            "CADDY_HTTP_PORT": str(http_port),
            "CADDY_ADMIN": "off",
        }
        log_path = tmp_path / "caddy.log"
        with log_path.open("wb") as log:
            process = _caddy(env, log)
            try:
                yield f"https://localhost:{https_port}", f"http://localhost:{http_port}", log_path
            finally:
                process.terminate()
                process.wait(15)


@pytest.fixture
def proxied(tmp_path: Path, knowledge: Knowledge, keys: Keys) -> Iterator[tuple[str, str, Path]]:
    """cmvcds on SQLite behind the shipped Caddyfile (see ``behind_caddy``)."""
    with behind_caddy(tmp_path, knowledge, keys, f"sqlite:///{tmp_path / 'cmvcds.sqlite3'}") as urls:
        yield urls


def _caddy(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    assert CADDY is not None
    config = ROOT / "deploy" / "Caddyfile"
    return subprocess.Popen(
        [CADDY, "run", "--config", str(config), "--adapter", "caddyfile"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture
def keys() -> Keys:
    return Keys()


def test_cmvcds_behind_the_shipped_caddyfile_over_tls(
    proxied: tuple[str, str, Path], tmp_path: Path, keys: Keys
) -> None:
    base, plain, log_path = proxied
    root = tmp_path / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    tls = _wait_ready(f"{base}/readyz", root)
    with httpx.Client(base_url=base, verify=tls, timeout=30) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"
        assert UUID.fullmatch(ready.headers["x-request-id"])  # Caddy's {http.request.uuid}

        audience = f"{base}{SERVICE}"  # what cmvcds must compute from the forwarded headers
        body = load("pregnancy-valacyclovir.request.json")
        token = keys.token(aud=audience)
        answer = client.post(
            SERVICE + "?q=secret-term", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        cards = answer.json()["cards"]
        assert cards and all(
            link["url"].startswith(f"{base}/knowledge/")
            for card in cards
            for link in card.get("links", [])
        )
        assert UUID.fullmatch(answer.headers["x-request-id"])
        # the audience cmvcds would see without the proxy's headers is refused through it
        inner = keys.token(aud=f"http://127.0.0.1{SERVICE}")
        refused = client.post(SERVICE, json=body, headers={"Authorization": f"Bearer {inner}"})
        assert refused.status_code == 401

    # plain http is sent to https, before anything reaches cmvcds
    moved = httpx.get(f"{plain}/readyz", timeout=10)
    assert moved.status_code == 308 and moved.headers["location"].startswith("https://localhost")

    log = log_path.read_text(encoding="utf-8", errors="replace")
    access = [json.loads(line) for line in log.splitlines() if '"http.log.access' in line]
    assert len(access) >= 3
    cds = [a for a in access if a["request"]["uri"].startswith(SERVICE)]
    assert cds and all(a["request"]["uri"] in (SERVICE, f"{SERVICE}?-") for a in cds)
    assert "secret-term" not in log
    assert token not in log and inner not in log
    assert all("Authorization" not in a["request"]["headers"] for a in cds)


@pytest.mark.postgres
def test_on_postgresql_behind_the_proxy_readyz_goes_red_when_the_database_stops(
    tmp_path: Path, knowledge: Knowledge, keys: Keys, pg_database: Callable[[], str]
) -> None:
    """The deployment the compose file describes, without Docker: cmvcds on PostgreSQL behind the
    shipped Caddyfile over TLS answers a signed CDS call; when PostgreSQL stops accepting
    connections, ``/readyz`` through the proxy goes red (503), and green again when it is back."""
    name = pg_database()
    url = pg_url(name)
    _migrate(url)
    with behind_caddy(tmp_path, knowledge, keys, url) as (base, _, _):
        root = tmp_path / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        tls = _wait_ready(f"{base}/readyz", root)
        with httpx.Client(base_url=base, verify=tls, timeout=30) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            token = keys.token(aud=f"{base}{SERVICE}")
            body = load("pregnancy-valacyclovir.request.json")
            answer = client.post(SERVICE, json=body, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["cards"]
            pg_admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
            pg_admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            red = client.get("/readyz")
            assert red.status_code == 503, red.text
            assert red.json()["checks"]["database"] == "unreachable"
            pg_admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
            assert client.get("/readyz").status_code == 200
