"""Tamper evidence: every way an attacker with database access rewrites history is detected.

The attacker holds the database's credentials but not the audit key nor the checkpoint log
(both outside the database, see ``docs/registry-audit.md``). Each tampering kind
(``tampering.KINDS``, and rolling the database back to an older copy) is applied through raw
SQL on SQLite and on PostgreSQL, and ``cmvcds registry verify-audit`` must exit 1 naming the
problem; on an untouched database it exits 0.

Measured on the code before keying, checkpoints and replay (commit 7fca209): ``verify-audit``
detected 2 of the 13 kinds then in the suite on SQLite and 2 of 13 on PostgreSQL (editing an
entry's payload, deleting an entry); everything else passed as intact. The account takeover
kind came later (the password hash was not in the trail at all then).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection
from typer.testing import CliRunner, Result

from cmvcds.adapters.cli.main import app
from cmvcds.registry.services import crf, subjects

from . import tampering
from .conftest import World
from .helpers import cohort_of

pytestmark = pytest.mark.tampers  # (all but the last test tamper)


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["registry", *args])


class Scene:
    """A registry with a cohort, an older copy of it, more work since, and a checkpoint."""

    def __init__(self, world: World, url: str, folder: Path) -> None:
        self.url = url
        self.checkpoints = folder / "audit-checkpoints.jsonl"
        registry, a = world.registry, world.entry_a
        keys = cohort_of(world)
        with registry.session(a) as s:
            subjects.withdraw_consent(s, a, keys["gone"], on=date(2026, 3, 1), reason="asked to")
        self.older = tampering.Snapshot(registry.engine, url, folder)
        with registry.session(a) as s:
            crf.save_form(s, a, keys["keep"], "amniocentesis", "amniocentesis",
                          {"amnio_viral_load": "2500"}, reason="lab report received")  # fmt: skip
        registry.dispose()
        made = cli("checkpoint", "--db", url, "--checkpoints", str(self.checkpoints))
        assert made.exit_code == 0, made.output

    def verify(self) -> Result:
        return cli("verify-audit", "--db", self.url, "--checkpoints", str(self.checkpoints))

    def tamper(self, kind: Callable[[Connection], None]) -> None:
        from sqlalchemy import create_engine

        engine = create_engine(self.url)
        with engine.begin() as connection:
            kind(connection)
        engine.dispose()


@pytest.fixture
def scene(world: World, database_url: str, tmp_path: Path) -> Scene:
    return Scene(world, database_url, tmp_path)


def test_an_untouched_registry_verifies(scene: Scene) -> None:
    result = scene.verify()
    assert result.exit_code == 0, result.output
    assert "verified" in result.output


@pytest.mark.parametrize("kind", list(tampering.KINDS))
def test_tampering_is_detected(scene: Scene, kind: str) -> None:
    scene.tamper(tampering.KINDS[kind])
    result = scene.verify()
    assert result.exit_code == 1, f"{kind}: not detected\n{result.output}"
    assert "the audit trail does not verify" in result.output  # not a crash


def test_rolling_back_to_an_older_copy_is_detected(scene: Scene) -> None:
    scene.older.restore()
    result = scene.verify()
    assert result.exit_code == 1, result.output
    assert "rolled back to an older copy" in result.output


def test_verification_reads_one_snapshot_while_writers_commit(world: World) -> None:
    """Writers saving forms while the registry is verified: never a false alarm."""
    import threading

    from cmvcds.registry.access import SYSTEM
    from cmvcds.registry.audit_verify import verify_registry

    keys = cohort_of(world)
    registry, a = world.registry, world.entry_a
    done = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for number in range(40):
                with registry.session(a) as s:
                    crf.save_form(s, a, keys["keep"], "amniocentesis", "amniocentesis",
                                  {"amnio_viral_load": str(1000 + number)}, reason=f"rerun {number}")  # fmt: skip
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    runs = 0
    while not done.is_set() or runs == 0:
        with registry.session(SYSTEM) as s:
            result = verify_registry(s, None)
        assert result.problems == (), result.problems
        runs += 1
    writer.join()
    assert errors == [] and runs >= 1
