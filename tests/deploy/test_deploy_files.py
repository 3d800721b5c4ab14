"""The container files, checked for structure: Docker is not installed on the development
machine, so ``docker compose config`` cannot run here; these tests hold the compose file and the
Dockerfile to what docs/deploy.md promises."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_services_and_networks() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"db", "cmvcds", "checkpoint", "proxy"}
    assert services["db"]["image"].startswith("postgres:")
    assert compose["networks"]["backend"]["internal"] is True  # the database is never published
    assert "ports" not in services["db"] and "ports" not in services["cmvcds"]
    assert services["db"]["networks"] == ["backend"]
    assert services["proxy"]["networks"] == ["frontend"]
    assert set(services["cmvcds"]["networks"]) == {"backend", "frontend"}
    assert services["proxy"]["ports"] == ["443:443", "80:80"]
    assert services["cmvcds"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["proxy"]["depends_on"]["cmvcds"]["condition"] == "service_healthy"
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
    # every named volume and secret used is declared
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in compose["volumes"], source
        for secret in service.get("secrets", []):
            assert secret in compose["secrets"], secret


def test_compose_cmvcds_environment() -> None:
    services = _compose()["services"]
    env = services["cmvcds"]["environment"]
    assert env["CMVCDS_DATABASE_URL"].startswith("postgresql+psycopg://cmvcds:")
    assert env["CMVCDS_DATABASE_URL"].endswith("@db:5432/cmvcds")
    assert env["CMVCDS_MODE"] == "production"
    assert env["CMVCDS_AUDIT_KEY_FILE"] == "/run/secrets/cmvcds_audit_key"
    assert env["CMVCDS_AUDIT_CHECKPOINTS"].startswith("/var/lib/cmvcds/checkpoints/")
    assert services["checkpoint"]["environment"] == env  # the same key and log
    assert services["checkpoint"]["command"][:3] == ["cmvcds", "registry", "checkpoint"]
    documented = set(re.findall(r"`(CMVCDS_[A-Z0-9_]+)`", (ROOT / "docs/deploy.md").read_text()))
    assert {name for name in env if name.startswith("CMVCDS_")} <= documented


def test_caddyfile_terminates_tls_and_forwards_to_the_app() -> None:
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    assert re.search(r"^\s*tls internal$", caddy, flags=re.MULTILINE)
    assert "reverse_proxy {$CMVCDS_UPSTREAM:cmvcds:8000}" in caddy  # compose: the cmvcds service
    assert "header_up X-Request-ID {http.request.uuid}" in caddy
    assert caddy.count("{") == caddy.count("}")


def test_dockerfile_essentials() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[0] == "FROM python:3.11-slim"
    assert "RUN pip install . && rm -rf /opt/cmvcds/src" in lines
    users = [line for line in lines if line.startswith("USER ")]
    assert users == ["USER cmvcds"]  # non-root from here on
    assert lines.index("USER cmvcds") < lines.index(next(x for x in lines if x.startswith("CMD")))
    assert lines[-1] == 'CMD ["cmvcds", "serve", "--host", "0.0.0.0"]'
    assert any("/readyz" in line for line in lines)
    # what `pip install .` needs is copied (readme and licence files named by pyproject.toml)
    copied = " ".join(line for line in lines if line.startswith("COPY"))
    for needed in ("pyproject.toml", "README.md", "LICENSE", "src"):
        assert needed in copied
