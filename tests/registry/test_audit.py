"""The audit trail: every write recorded, append-only in the database, tamper-evident."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from cmvcds.errors import AuditIntegrityError, InputError, RegistryError
from cmvcds.registry import audit
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.models import AuditEntry
from cmvcds.registry.services import crf, subjects

from .conftest import World
from .helpers import enrol


def entries(world: World) -> list[AuditEntry]:
    with world.registry.session(SYSTEM) as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_every_write_is_audited_with_who_when_site_old_new_reason(world: World) -> None:
    reg, a = world.registry, world.entry_a
    with reg.session(a) as s:
        key = enrol(s, a)
        crf.save_form(
            s,
            a,
            key,
            "maternal_diagnosis",
            "enrolment",
            {"enrolment_date": "2026-01-12", "fetuses": "1"},
        )
    before = len(entries(world))
    with reg.session(a) as s:
        crf.save_form(
            s,
            a,
            key,
            "maternal_diagnosis",
            "enrolment",
            {"fetuses": "2"},
            reason="twin pregnancy seen at US",
        )
    with reg.session(a) as s:
        crf.save_form(
            s, a, key, "maternal_diagnosis", "enrolment", {"fetuses": ""}, reason="entered in error"
        )
    trail = entries(world)[before:]
    assert [(e.action, e.field, e.old_value, e.new_value, e.reason) for e in trail] == [
        ("update", "maternal_diagnosis/enrolment#1/fetuses", "1", "2", "twin pregnancy seen at US"),
        ("delete", "maternal_diagnosis/enrolment#1/fetuses", "2", None, "entered in error"),
    ]
    assert {e.username for e in trail} == {"entry_a"}
    assert {e.site_id for e in trail} == {world.site_a}
    assert all(e.at.endswith("+00:00") for e in trail)  # UTC
    created = [e for e in entries(world) if e.entity == "subjects" and e.field == "pseudonym"]
    assert [e.new_value for e in created] == [key]


def test_changing_recorded_data_needs_a_reason(world: World) -> None:
    reg, a = world.registry, world.entry_a
    with reg.session(a) as s:
        key = enrol(s, a)
        crf.save_form(s, a, key, "maternal_diagnosis", "enrolment", {"fetuses": "1"})
    with pytest.raises(RegistryError, match="reason"), reg.session(a) as s:
        crf.save_form(s, a, key, "maternal_diagnosis", "enrolment", {"fetuses": "2"})
    with pytest.raises(InputError, match="reason"), reg.session(a) as s:
        subjects.withdraw_consent(s, a, key, on=date(2026, 2, 1), reason="  ")


def test_write_without_an_actor_is_refused(world: World) -> None:
    with pytest.raises(RegistryError, match="acting user"), world.registry.session(None) as s:
        enrol(s, world.entry_a)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET new_value = 'forged' WHERE seq = 1",
    "DELETE FROM audit_entries WHERE seq = 1",
    "DELETE FROM audit_head",
    "UPDATE audit_head SET seq = 0",
])  # fmt: skip
def test_database_refuses_to_rewrite_the_trail(world: World, statement: str) -> None:
    with (
        pytest.raises(DBAPIError, match="append-only"),
        world.registry.engine.begin() as connection,
    ):
        connection.execute(text(statement))
    count = len(entries(world))
    with world.registry.session(SYSTEM) as s:
        assert audit.verify(s).entries == count > 0


def test_truncate_refused_on_postgresql(world: World) -> None:
    if world.registry.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with (
        pytest.raises(DBAPIError, match="append-only"),
        world.registry.engine.begin() as connection,
    ):
        connection.execute(text("TRUNCATE audit_entries"))


def _drop_guard(world: World) -> None:
    """What an attacker with DBA rights would do first: remove the triggers."""
    with world.registry.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER audit_entries_no_update ON audit_entries"))
            connection.execute(text("DROP TRIGGER audit_head_forward ON audit_head"))
        else:
            connection.execute(text("DROP TRIGGER audit_entries_no_update"))
            connection.execute(text("DROP TRIGGER audit_entries_no_delete"))
            connection.execute(text("DROP TRIGGER audit_head_forward"))


@pytest.mark.tampers
def test_verify_detects_a_forged_entry(world: World) -> None:
    with world.registry.session(SYSTEM) as s:
        assert audit.verify(s).entries > 10
    _drop_guard(world)
    with world.registry.engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET username = 'someone_else' WHERE seq = 5"))
    with (
        pytest.raises(AuditIntegrityError, match="audit entry 5"),
        world.registry.session(SYSTEM) as s,
    ):
        audit.verify(s)


@pytest.mark.tampers
def test_verify_detects_a_rehashed_forgery_and_a_removed_tail(world: World) -> None:
    _drop_guard(world)
    with world.registry.session(SYSTEM) as s:
        row = s.get(AuditEntry, 3)
        assert row is not None
        fields = {name: getattr(row, name) for name in audit.HASHED_FIELDS}
        fields["new_value"] = "forged"
        forged = audit.entry_hash(fields, None)  # the attacker has no audit key
    with world.registry.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_entries SET new_value = 'forged', hash = :h WHERE seq = 3"),
            {"h": forged},
        )
    with (
        pytest.raises(AuditIntegrityError, match=r"entry 3 .*keyed hash"),
        world.registry.session(SYSTEM) as s,
    ):
        audit.verify(s)
    with world.registry.engine.begin() as connection:
        last = connection.scalar(select(func.max(AuditEntry.seq)))
        connection.execute(text("DELETE FROM audit_entries WHERE seq >= 3"))
    with (
        pytest.raises(AuditIntegrityError, match=f"head says entry {last}"),
        world.registry.session(SYSTEM) as s,
    ):
        audit.verify(s)


@pytest.mark.tampers
def test_verify_audit_command(world: World, database_url: str) -> None:
    from typer.testing import CliRunner

    from cmvcds.adapters.cli.main import app

    ok = CliRunner().invoke(
        app, ["registry", "verify-audit", "--db", database_url, "--format", "json"]
    )
    assert ok.exit_code == 0, ok.output
    assert '"verified": true' in ok.output
    _drop_guard(world)
    with world.registry.engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET old_value = 'x' WHERE seq = 2"))
    bad = CliRunner().invoke(app, ["registry", "verify-audit", "--db", database_url])
    assert bad.exit_code == 1
    assert "audit entry 2" in bad.output
