"""The audit key and the checkpoint log live outside the database; without them no forgery."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.errors import AuditIntegrityError, RegistryError
from cmvcds.registry import audit
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.audit_key import KEY_ENV
from cmvcds.registry.db import Registry
from cmvcds.registry.services import study

from .conftest import World


def _sqlite(template: Path, folder: Path) -> tuple[Registry, Path]:
    path = folder / "demo.sqlite3"
    shutil.copy(template, path)
    return Registry(f"sqlite:///{path}"), path


def test_the_sqlite_demo_generates_its_key_next_to_the_file_readable_by_its_owner_only(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    registry, path = _sqlite(sqlite_template, tmp_path)
    with registry.session(SYSTEM) as s:
        study.create_site(s, SYSTEM, code="FI01", name="Careggi")
    key_file = Path(str(path) + ".audit-key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    with registry.session(SYSTEM) as s:
        assert audit.verify(s).entries > 0
    # the same trail under another key does not verify: the key is what makes it unforgeable
    monkeypatch.setenv(KEY_ENV, "another key that is long enough to be accepted")
    with pytest.raises(AuditIntegrityError, match="keyed hash"), registry.session(SYSTEM) as s:
        audit.verify(s)
    registry.dispose()


def test_a_key_file_others_can_read_is_refused(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    key_file = tmp_path / "audit.key"
    key_file.write_text("x" * 64)
    key_file.chmod(0o644)
    monkeypatch.setenv("CMVCDS_AUDIT_KEY_FILE", str(key_file))
    registry, _ = _sqlite(sqlite_template, tmp_path)
    with pytest.raises(RegistryError, match="chmod 600"), registry.session(SYSTEM) as s:
        study.create_site(s, SYSTEM, code="FI01", name="Careggi")
    registry.dispose()


def test_a_server_database_without_a_key_refuses_to_write(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    if registry.engine.dialect.name != "postgresql":
        pytest.skip("SQLite generates its demo key")
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(RegistryError, match="no audit key"), registry.session(SYSTEM) as s:
        study.create_site(s, SYSTEM, code="FI01", name="Careggi")


def test_an_edited_checkpoint_log_is_detected(
    world: object, database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "checkpoints.jsonl"

    def cli(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(
            app, ["registry", *args, "--db", database_url, "--checkpoints", str(log)]
        )
        return result.exit_code, result.output

    assert cli("checkpoint")[0] == 0
    code, output = cli("verify-audit")
    assert code == 0 and "1 checkpoint(s)" in output
    point = json.loads(log.read_text())
    point["seq"] += 1000  # claim a longer trail than there was
    log.write_text(json.dumps(point) + "\n")
    code, output = cli("verify-audit")
    assert code == 1 and "signature does not verify" in output


def test_checkpoints_on_a_schedule(world: World, database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "checkpoints.jsonl"
    result = CliRunner().invoke(app, ["registry", "checkpoint", "--db", database_url,
                                      "--checkpoints", str(log), "--every", "0.05", "--count", "3"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(log.read_text().splitlines()) == 3
