"""Records are never overwritten: replaying the audit trail rebuilds every current value."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cmvcds.registry import audit
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.db import Registry
from cmvcds.registry.models import AuditEntry, Role
from cmvcds.registry.services import crf, study

from .helpers import enrol

FIELDS = ("amnio_ga_days", "amnio_viral_load", "amnio_cmv_pcr")
values = {
    "amnio_ga_days": st.integers(141, 300).map(str),
    "amnio_viral_load": st.integers(0, 10**6).map(str),
    "amnio_cmv_pcr": st.sampled_from(["0", "1"]),
}
edit = st.sampled_from(FIELDS).flatmap(
    lambda f: st.tuples(st.just(f), st.one_of(values[f], st.just("")))
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(edit, min_size=1, max_size=12))
def test_replaying_the_trail_gives_the_current_values(
    sqlite_template: Path, edits: list[tuple[str, str]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.sqlite3"
        shutil.copy(sqlite_template, path)
        registry = Registry(f"sqlite:///{path}")
        with registry.session(SYSTEM) as s:
            site = study.create_site(s, SYSTEM, code="FI01", name="x")
            user = study.create_user(s, SYSTEM, username="u", password="0123456789", role=Role.SITE_DATA_ENTRY,
                                     site_id=site.id)  # fmt: skip
            actor = study.actor_for(user)
        with registry.session(actor) as s:
            key = enrol(s, actor)
        for number, (name, value) in enumerate(edits):
            with registry.session(actor) as s:
                crf.save_form(
                    s,
                    actor,
                    key,
                    "amniocentesis",
                    "amniocentesis",
                    {name: value},
                    reason=f"edit {number}",
                )
        with registry.session(actor) as s:
            current = crf.read_form(s, actor, key, "amniocentesis", "amniocentesis")
            trail = list(
                s.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.entity == "data_values")
                    .order_by(AuditEntry.seq)
                )
            )
            audit.verify(s)
        registry.dispose()
    replayed: dict[str, str] = {}
    for entry in trail:
        assert entry.field is not None
        name = entry.field.rsplit("/", 1)[1]
        assert replayed.get(name) == entry.old_value  # each entry starts where the previous ended
        if entry.new_value is None:
            replayed.pop(name)
        else:
            replayed[name] = entry.new_value
    assert replayed == current
