"""Backup and restore as docs/deploy.md says, on the real PostgreSQL: a populated registry is
checkpointed, dumped with ``pg_dump -Fc``, restored with ``pg_restore`` into a new database, and
``cmvcds registry verify-audit`` passes on the copy with the same key and checkpoint log — and
fails with another key (the check can fail)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cmvcds.registry import migrate
from cmvcds.registry.access import SYSTEM, Actor
from cmvcds.registry.db import Registry
from cmvcds.registry.models import Role, Subject
from cmvcds.registry.services import crf, study, subjects
from tests.deploy.conftest import pg_dsn, pg_url

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLI = Path(sys.executable).parent / "cmvcds"
CONSENT = subjects.ConsentInput("IS-2.1", date(2026, 1, 12), written_648_consent=True)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "registry", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _populate(url: str) -> int:
    """A site, an investigator, three mothers with a diagnosis form each: the subjects made."""
    registry = Registry(url)
    migrate.upgrade(registry.engine)
    try:
        with registry.session(SYSTEM, reason="deploy test") as session:
            site = study.create_site(session, SYSTEM, code="FI01", name="Firenze")
            user = study.create_user(
                session, SYSTEM, username="inv1", password="correct horse 9",
                role=Role.SITE_INVESTIGATOR, site_id=site.id,
            )  # fmt: skip
            actor = Actor(user.id, user.username, Role(user.role), site.id)
        for number in range(3):
            with registry.session(actor, reason="enrolment") as session:
                subject = subjects.enrol_mother(
                    session, actor, hospital_record_number=f"MRN-{number:04d}",
                    enrolled_on=date(2026, 1, 12), consent=CONSENT,
                )  # fmt: skip
                crf.save_form(session, actor, subject.pseudonym, "maternal_diagnosis",
                              "maternal_infection", {"diagnosis_date": "2026-01-10",
                              "infection_criterion": "1", "infection_timing": "2"})  # fmt: skip
        return 3
    finally:
        registry.dispose()


def _subjects(url: str) -> int:
    registry = Registry(url)
    try:
        with registry.session(SYSTEM) as session:
            return int(session.scalar(select(func.count()).select_from(Subject)) or 0)
    finally:
        registry.dispose()


def test_dump_restore_verify(
    pg_database: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = secrets.token_hex(32)
    log = tmp_path / "audit-checkpoints.jsonl"
    source = pg_database()
    env = {**os.environ, "CMVCDS_AUDIT_KEY": key, "CMVCDS_AUDIT_CHECKPOINTS": str(log)}
    with monkeypatch.context() as patched:  # the in-process writers need it too (PostgreSQL);
        patched.setenv("CMVCDS_AUDIT_KEY", key)  # the suite's own key is restored afterwards
        made = _populate(pg_url(source))
    checkpoint = _cli({**env, "CMVCDS_DATABASE_URL": pg_url(source)}, "checkpoint")
    assert checkpoint.returncode == 0, checkpoint.stderr
    assert log.read_text().count("\n") == 1

    dump = tmp_path / "cmvcds.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", pg_dsn(source)],
        check=True, timeout=120,
    )  # fmt: skip
    restored = pg_database()
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={pg_dsn(restored)}", str(dump)],
        check=True, timeout=120,
    )  # fmt: skip

    assert _subjects(pg_url(restored)) == made
    verified = _cli(
        {**env, "CMVCDS_DATABASE_URL": pg_url(restored)}, "verify-audit", "--format", "json"
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert '"verified": true' in verified.stdout
    assert '"checkpoints": 1' in verified.stdout

    other_key = {**env, "CMVCDS_AUDIT_KEY": secrets.token_hex(32)}
    refused = _cli({**other_key, "CMVCDS_DATABASE_URL": pg_url(restored)}, "verify-audit")
    assert refused.returncode == 1, refused.stdout + refused.stderr
