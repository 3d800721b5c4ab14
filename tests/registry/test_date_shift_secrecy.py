"""No combination of central exports reveals a family's secret date shift (issue 17, High 7).

The attack the audit ran: a role with the central exports takes the month-coarsened export
(``YYYY-MM`` of each date) and the shifted export (each date moved by the family's secret
offset) and keeps only the offsets under which every shifted date falls back into its
coarsened month. With true months that pins the offset to about a day. Here every role with
``EXPORT_CENTRAL`` (data manager, statistician, administrator) runs every pair of export
options it can ask for — each format with each date policy. In every format, every date of the
coarsened export must be the month of a date of the shifted export (so the pair tells nothing
the shifted export alone does not), and the attack on REDCap's field-by-field values must not
narrow the offset down at all (on the code the audit ran, it narrowed "keep" to 20 days here,
to about one day with more dates near month ends).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cmvcds.registry import exports
from cmvcds.registry.dates import MAX_SHIFT_DAYS
from cmvcds.registry.models import DateShift, Subject

from .conftest import World

OFFSETS = {"keep": -200, "gone": -45}  # the secrets, fixed so the test is exact
DATE = re.compile(r"\b\d{4}-\d{2}(?:-\d{2})?\b")
FORMATS = ("redcap", "odm", "fhir")
POLICIES = ("coarsen", "shift")


def _set_offsets(world: World, cohort: dict[str, str]) -> None:
    with world.registry.session(world.admin) as s:
        for name, offset in OFFSETS.items():
            mother = s.scalars(select(Subject).where(Subject.pseudonym == cohort[name])).one()
            row = s.scalars(select(DateShift).where(DateShift.subject_id == mother.id)).first()
            if row is None:
                s.add(DateShift(subject_id=mother.id, site_id=mother.site_id, offset_days=offset))
            else:
                row.offset_days = offset


def _export(world: World, role: str, fmt: str, policy: str) -> dict[str, str]:
    actor = world.actors[role]
    with world.registry.session(actor) as s:
        files = exports.export(s, actor, fmt=fmt, profile="central", dates=policy).files
    return files


def _cells(files: dict[str, str]) -> dict[tuple[str, str, str, str], str]:
    """(record, event, repeat instance, field) → value, for every date-like REDCap value."""
    cells = {}
    for row in csv.DictReader(io.StringIO(files["records.csv"])):
        key = (row["record_id"], row["redcap_event_name"], row["redcap_repeat_instance"])
        for field, value in row.items():
            if DATE.fullmatch(value or "") and field != "record_id":
                cells[(*key, field)] = value
    return cells


def _month(day: date) -> str:
    return day.isoformat()[:7]


def recover(shifted: dict[tuple[str, ...], str], coarse: dict[tuple[str, ...], str],
            record: str) -> list[int]:  # fmt: skip
    """The attack: every offset (days earlier) under which each shifted date of ``record``
    falls back into the month the coarsened export gives for it."""
    pairs = [(date.fromisoformat(v), coarse[k]) for k, v in shifted.items()
             if k[0] == record and len(v) == 10 and k in coarse]  # fmt: skip
    assert pairs, f"no date of {record} in both exports"
    return [o for o in range(1, MAX_SHIFT_DAYS + 1)
            if all(_month(d + timedelta(days=o)) == m for d, m in pairs)]  # fmt: skip


def _tokens(files: dict[str, str]) -> set[str]:
    return set(DATE.findall("\n".join(files.values())))


@pytest.mark.parametrize("role", ["dm", "stat", "admin"])
def test_no_pair_of_central_exports_reveals_the_shift(
    world: World, cohort: dict[str, str], role: str
) -> None:
    _set_offsets(world, cohort)
    made = {(f, p): _export(world, role, f, p) for f in FORMATS for p in POLICIES}
    for fmt in FORMATS:  # every date of a coarsened export is the month of a shifted one
        shifted_tokens = _tokens(made[(fmt, "shift")])  # (with ODM's export time in both)
        months = {t[:7] for t in shifted_tokens}
        assert _tokens(made[(fmt, "coarsen")]) <= months | shifted_tokens, fmt
    shifted = _cells(made[("redcap", "shift")])
    coarse = _cells(made[("redcap", "coarsen")])
    assert coarse and shifted
    for key, value in coarse.items():  # the coarsened export is a function of the shifted one
        assert value == shifted[key][:7], key
    for name, offset in OFFSETS.items():
        candidates = recover(shifted, coarse, cohort[name])
        # a leak: the offsets consistent with both exports hold the truth and are fewer than
        # the shifted export alone allows (on the code of the audit: 20 days for "keep", and
        # with more dates near month ends, ±1 day)
        narrowed = -offset in candidates and len(candidates) < MAX_SHIFT_DAYS
        assert not narrowed, f"{role}: the shift of {name} narrowed to {candidates}"
