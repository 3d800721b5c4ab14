"""The way into the registry: schema creation that does not wait for a page to be visited, the
demo users of ``make run`` (documented in the README, never added to a real registry), and a
clear error for a database that cannot be reached."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.adapters.cli.registry import open_registry
from cmvcds.adapters.web.demo_registry import DEMO_PASSWORD, DEMO_USERS, seed_demo_registry
from cmvcds.errors import InputError, RegistryError
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.db import Registry
from cmvcds.registry.models import Role
from cmvcds.registry.security import login
from cmvcds.registry.services import study

ROOT = Path(__file__).resolve().parents[2]


def test_create_site_on_a_fresh_database_before_any_page(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    result = CliRunner().invoke(app, ["registry", "create-site", "FI01", "Careggi", "--db", url])
    assert result.exit_code == 0, result.output
    assert "site FI01 created" in result.output
    registry = Registry(url)
    with registry.session(SYSTEM) as session:
        assert study.site_by_code(session, "FI01").name == "Careggi"
    registry.dispose()


def test_an_unreachable_database_is_one_clear_line() -> None:
    url = "postgresql://nobody@127.0.0.1:9/none"
    result = CliRunner().invoke(app, ["registry", "create-site", "FI01", "x", "--db", url])
    assert result.exit_code != 0
    assert "cannot prepare the registry database postgresql://nobody@127.0.0.1:9/none" in (
        result.output
    )
    assert "no such table" not in result.output and "Traceback" not in result.output


def test_demo_users_one_per_role_log_in_with_the_documented_password(tmp_path: Path) -> None:
    registry = open_registry(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    assert sorted(seed_demo_registry(registry)) == sorted(DEMO_USERS.values())
    assert seed_demo_registry(registry) == []  # a restart adds nothing
    assert set(DEMO_USERS) == set(Role)
    with registry.session(None) as session:
        for role, name in DEMO_USERS.items():
            started = login(session, name, DEMO_PASSWORD, now=datetime.now(UTC))
            user = study.user_by_name(session, name)
            assert started.user_id == user.id and user.role == role
            assert (user.site_id is not None) == role.site_scoped
    registry.dispose()


def test_demo_users_are_never_added_to_a_registry_with_real_users(tmp_path: Path) -> None:
    registry = open_registry(f"sqlite:///{tmp_path / 'real.sqlite3'}")
    with registry.session(SYSTEM) as session:
        study.create_user(
            session, SYSTEM, username="rossi", password="a real passphrase", role=Role.MONITOR
        )
    with pytest.raises(RegistryError, match="never added"):
        seed_demo_registry(registry)
    with registry.session(SYSTEM) as session, pytest.raises(InputError, match="no user"):
        study.user_by_name(session, DEMO_USERS[Role.ADMINISTRATOR])
    registry.dispose()


def test_the_readme_documents_every_demo_user_and_the_real_setup() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for role, name in DEMO_USERS.items():
        row = rf"\|\s*`{role.value}`\s*\|\s*`{re.escape(name)}`\s*\|\s*`{re.escape(DEMO_PASSWORD)}`\s*\|"
        assert re.search(row, readme), f"README: no demo row for {role.value}"
    assert "--demo-registry" in (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "docs/registry-setup.md" in readme
    setup = (ROOT / "docs" / "registry-setup.md").read_text(encoding="utf-8")
    for command in ("registry init", "registry create-site", "registry create-user"):
        assert command in setup
