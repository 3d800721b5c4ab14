"""REDCap ``<form>_complete`` columns and the central profile's date shifting."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select

from cmvcds.errors import InputError
from cmvcds.registry import exports
from cmvcds.registry.dates import MAX_SHIFT_DAYS
from cmvcds.registry.models import AuditEntry, DataQuery, DateShift, Subject
from cmvcds.registry.services import crf

from .conftest import World


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _row(rows: list[dict[str, str]], key: str, event: str, repeat: str = "") -> dict[str, str]:
    return next(r for r in rows if r["record_id"] == key and r["redcap_event_name"] == f"{event}_arm_1"
                and r["redcap_repeat_instrument"] == repeat)  # fmt: skip


def test_form_complete_columns_use_redcap_codes(world: World, cohort: dict[str, str]) -> None:
    keep = cohort["keep"]
    with world.registry.session(world.monitor) as s:
        crf.open_query(s, world.monitor, keep, "amniocentesis", "amniocentesis", "amnio_ga_days",
                       "Please check against the report")  # fmt: skip
    with world.registry.session(world.dm) as s:
        text = exports.export(s, world.dm, fmt="redcap", profile="central").files["records.csv"]
    header = next(csv.reader(io.StringIO(text)))
    # each form's status closes its fields, in dictionary order
    assert header.index("enrolment_complete") < header.index("diagnosis_date")
    assert header.index("consent_648_written") + 1 == header.index("enrolment_complete")
    assert header[-1] == "newborn_followup_complete"
    rows = _rows(text)
    diagnosis = _row(rows, keep, "maternal_diagnosis")
    # enrolment: fetuses and the 648/96 consent (required) are missing → 0 Incomplete
    assert diagnosis["enrolment_complete"] == "0"
    assert diagnosis["maternal_infection_complete"] == "2"  # every required field → Complete
    assert diagnosis["laboratory_complete"] == ""  # no data on this row
    assert _row(rows, keep, "valacyclovir_start")["valacyclovir_complete"] == "2"
    assert (
        _row(rows, keep, "amniocentesis")["amniocentesis_complete"] == "1"
    )  # open query: Unverified
    ae = _row(rows, keep, "valacyclovir_start", "adverse_event")
    assert (ae["adverse_event_complete"], ae["valacyclovir_complete"]) == ("2", "")
    with world.registry.session(world.monitor) as s:
        [query] = s.scalars(select(DataQuery)).all()
        crf.close_query(s, world.monitor, query.id)
    with world.registry.session(world.dm) as s:
        text = exports.export(s, world.dm, fmt="redcap", profile="central").files["records.csv"]
    assert _row(_rows(text), keep, "amniocentesis")["amniocentesis_complete"] == "2"


def _shifted(world: World) -> dict[str, str]:
    with world.registry.session(world.dm) as s:
        return exports.export(s, world.dm, fmt="redcap", profile="central", dates="shift").files


def test_shifted_dates_keep_every_interval_of_a_family(
    world: World, cohort: dict[str, str]
) -> None:
    keep = cohort["keep"]
    files = _shifted(world)
    rows = _rows(files["records.csv"])
    diagnosis = _row(rows, keep, "maternal_diagnosis")
    shifted = date.fromisoformat(diagnosis["diagnosis_date"])
    offset = (shifted - date(2026, 1, 10)).days
    assert -MAX_SHIFT_DAYS <= offset <= -1
    assert date.fromisoformat(diagnosis["enrolment_date"]) == date(2026, 1, 12) + timedelta(offset)
    newborn = next(r for r in rows if r["mother_record_id"] == keep)
    assert "nb_birth_date" not in newborn  # an identifier: dropped in the central profile
    ae = _row(rows, keep, "valacyclovir_start", "adverse_event")
    assert date.fromisoformat(ae["ae_onset"]) == date(2026, 2, 1) + timedelta(offset)
    with world.registry.session(world.admin) as s:
        mother = s.scalars(select(Subject).where(Subject.pseudonym == keep)).one()
        stored = s.scalars(select(DateShift).where(DateShift.subject_id == mother.id)).one()
        assert stored.offset_days == offset and stored.site_id == world.site_a
        newborn_row = s.scalars(select(Subject).where(Subject.mother_id == mother.id)).one()
        assert (
            s.scalars(select(DateShift).where(DateShift.subject_id == newborn_row.id)).first()
            is None
        )
        audited = {
            e.field for e in s.scalars(select(AuditEntry).where(AuditEntry.entity == "date_shifts"))
        }
    assert (
        "offset_days" not in audited and "subject_id" in audited
    )  # the secret is not in the trail
    assert _shifted(world)["records.csv"] == files["records.csv"]  # the same offset every time
    dictionary = {r["Variable / Field Name"]: r for r in _rows(files["dictionary.csv"])}
    assert dictionary["diagnosis_date"]["Text Validation Type OR Show Slider Number"] == "date_ymd"
    assert "shifted" in dictionary["diagnosis_date"]["Field Note"]
    with world.registry.session(world.dm) as s:
        fhir = exports.export(s, world.dm, fmt="fhir", profile="central", dates="shift").files
    consents = [json.loads(line) for line in fhir["Consent.ndjson"].splitlines()]
    mother_consent = next(
        c for c in consents if c["patient"]["reference"] == f"Patient/{keep.lower()}"
    )
    assert mother_consent["dateTime"] == (date(2026, 1, 12) + timedelta(offset)).isoformat()
    child_consent = next(
        c
        for c in consents
        if c["patient"]["reference"] == f"Patient/{newborn['record_id'].lower()}"
    )
    assert child_consent["dateTime"] == mother_consent["dateTime"]  # the family's one offset


@pytest.mark.tampers
def test_site_profile_never_shifts_and_older_data_gets_an_offset(
    world: World, cohort: dict[str, str]
) -> None:
    with world.registry.session(world.pi_a) as s:
        site = exports.export(s, world.pi_a, fmt="redcap", profile="site", dates="shift")
    assert (
        _row(_rows(site.files["records.csv"]), cohort["keep"], "maternal_diagnosis")[
            "diagnosis_date"
        ]
        == "2026-01-10"
    )
    with world.registry.session(world.admin) as s:
        s.execute(delete(DateShift))  # as in a database from before date shifting
    rows = _rows(_shifted(world)["records.csv"])
    assert _row(rows, cohort["keep"], "maternal_diagnosis")["diagnosis_date"] != "2026-01-10"
    with world.registry.session(world.admin) as s:
        assert len(s.scalars(select(DateShift)).all()) == 2  # one per family now
    with pytest.raises(InputError, match="coarsen, shift"), world.registry.session(world.dm) as s:
        exports.export(s, world.dm, fmt="redcap", profile="central", dates="hide")
