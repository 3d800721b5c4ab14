"""REDCap and ODM exports a REDCap project / an ODM 1.3.2 reader accepts as is.

The REDCap checks are the import rules of REDCap's data import (every column a dictionary
field, a checkbox choice ``field___code``, a form's ``_complete``, or one of the four
``redcap_*`` columns; data only for forms designated to the row's event; repeating rows only
for repeating instruments; DAGs by unique name). The ODM is validated against the official
CDISC ODM 1.3.2 schema vendored in ``tests/registry/odm/`` (cdisc-org/DataExchange-ODM,
``archive/ODM1-3-2``, MIT licence, see LICENSE and read_me.txt there).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from lxml import etree

from cmvcds.registry import exports

from .conftest import World

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
REDCAP_COLUMNS = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
                  "redcap_data_access_group")  # fmt: skip
SCHEMA = Path(__file__).parent / "odm" / "ODM1-3-2.xsd"


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _allowed_columns(dictionary: list[dict[str, str]]) -> dict[str, str]:
    """Column → form, as REDCap derives the import columns from the data dictionary."""
    allowed: dict[str, str] = {}
    for n, row in enumerate(dictionary):
        name, form = row["Variable / Field Name"], row["Form Name"]
        if row["Field Type"] == "checkbox":
            choices = row["Choices, Calculations, OR Slider Labels"].split("|")
            for choice in choices:
                allowed[f"{name}___{choice.split(',')[0].strip()}"] = form
        elif row["Field Type"] != "descriptive":
            allowed[name] = form
        if n + 1 == len(dictionary) or dictionary[n + 1]["Form Name"] != form:
            allowed[f"{form}_complete"] = form
    return allowed


@pytest.mark.parametrize("profile", ["central", "site"])
def test_redcap_import_files_agree(world: World, cohort: dict[str, str], profile: str) -> None:
    actor = world.dm if profile == "central" else world.pi_a
    with world.registry.session(actor) as s:
        files = exports.export(s, actor, fmt="redcap", profile=profile).files
    assert set(files) - {"README.txt"} == {"records.csv", "dictionary.csv", "arms.csv", "events.csv",
                          "instrument_event_mapping.csv", "repeating_instruments.csv",
                          "data_access_groups.csv"}  # fmt: skip
    dictionary = _rows(files["dictionary.csv"])
    allowed = _allowed_columns(dictionary)
    header = next(csv.reader(io.StringIO(files["records.csv"])))
    record_id = dictionary[0]["Variable / Field Name"]
    assert header[:5] == [record_id, *REDCAP_COLUMNS]
    assert [c for c in header[5:] if c not in allowed] == []  # nothing REDCap would reject
    order = [c for c in allowed if c in header[5:]]
    assert header[5:] == order  # dictionary order
    assert "us_findings___1" in header and "us_findings" not in header
    assert ("hospital_record_number" in header) is (profile == "site")
    events = {r["unique_event_name"]: r for r in _rows(files["events.csv"])}
    arms = {r["arm_num"] for r in _rows(files["arms.csv"])}
    assert {r["arm_num"] for r in events.values()} == arms == {"1"}
    mapped: dict[str, set[str]] = {}
    for r in _rows(files["instrument_event_mapping.csv"]):
        assert (
            r["unique_event_name"] in events
            and r["arm_num"] == events[r["unique_event_name"]]["arm_num"]
        )
        mapped.setdefault(r["unique_event_name"], set()).add(r["form"])
    repeating = {
        (r["event_name"], r["form_name"]) for r in _rows(files["repeating_instruments.csv"])
    }
    dags = {r["unique_group_name"] for r in _rows(files["data_access_groups.csv"])}
    rows = _rows(files["records.csv"])
    assert dags == {r["redcap_data_access_group"] for r in rows}
    assert "fi01" in dags and (dags == {"fi01"} or profile == "central")
    for row in rows:
        event = row["redcap_event_name"]
        assert event in events and row["redcap_data_access_group"] in dags
        instrument = row["redcap_repeat_instrument"]
        if instrument:
            assert (event, instrument) in repeating and row["redcap_repeat_instance"].isdigit()
        filled = {allowed[c] for c in header[5:] if row[c] != ""}
        assert filled <= mapped[event], (event, filled - mapped[event])
        if instrument:
            assert filled <= {instrument}
    newborn = next(r for r in rows if r["mother_record_id"] == cohort["keep"])
    assert newborn["redcap_event_name"] == "newborn_birth_arm_1"


def _validate(xml: str) -> etree._Element:
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    doc = etree.fromstring(xml.encode())
    assert schema.validate(doc), schema.error_log.filter_from_errors()
    return doc


def test_odm_central_is_valid_and_carries_no_audit_timestamps(
    world: World, cohort: dict[str, str]
) -> None:
    with world.registry.session(world.dm) as s:
        xml = exports.export(s, world.dm, fmt="odm", profile="central").files["study.odm.xml"]
    doc = _validate(xml)
    # true entry timestamps would give the secret date offset away: none in the central profile
    assert doc.findall(f".//{ODM}AuditRecord") == []
    assert doc.find(f".//{ODM}CodeList[@OID='CL.US_FINDINGS___1']") is not None
    assert doc.find(f".//{ODM}CodeList[@OID='CL.INFECTION_TIMING']") is not None


def test_odm_site_is_valid_with_audit_records(world: World, cohort: dict[str, str]) -> None:
    with world.registry.session(world.pi_a) as s:
        xml = exports.export(s, world.pi_a, fmt="odm", profile="site").files["study.odm.xml"]
    doc = _validate(xml)
    subject = doc.find(f".//{ODM}SubjectData[@SubjectKey='{cohort['keep']}']")
    assert subject is not None
    item = subject.find(f".//{ODM}ItemData[@ItemOID='I.AMNIO_CMV_PCR']")
    assert item is not None
    record = item.find(f"{ODM}AuditRecord")
    assert record is not None
    user = record.find(f"{ODM}UserRef").get("UserOID")  # type: ignore[union-attr]
    assert doc.find(f".//{ODM}AdminData/{ODM}User[@OID='{user}']") is not None
    assert record.find(f"{ODM}LocationRef").get("LocationOID") == "LOC.FI01"  # type: ignore[union-attr]
    assert record.findtext(f"{ODM}DateTimeStamp")


def test_odm_schema_rejects_a_broken_file(world: World, cohort: dict[str, str]) -> None:
    """The schema check can fail: an AuditRecord without its UserRef is refused."""
    with world.registry.session(world.pi_a) as s:
        xml = exports.export(s, world.pi_a, fmt="odm", profile="site").files["study.odm.xml"]
    doc = etree.fromstring(xml.encode())
    record = doc.find(f".//{ODM}AuditRecord")
    assert record is not None
    record.remove(record.find(f"{ODM}UserRef"))
    assert not etree.XMLSchema(etree.parse(str(SCHEMA))).validate(doc)
