"""Exports (REDCap, ODM 1.3.2, FHIR NDJSON), profiles, logging, and withdrawal of consent."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from sqlalchemy import select

from cmvcds.registry import analytics, exports
from cmvcds.registry.models import AuditEntry, ExportLog
from cmvcds.registry.services import subjects

from .conftest import World

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"


def _records(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_withdrawn_subject_leaves_exports_and_analyses(
    world: World, cohort: dict[str, str]
) -> None:
    with world.registry.session(world.dm) as s:
        before = exports.export(s, world.dm, fmt="redcap", profile="central")
        assert {r["record_id"] for r in _records(before.files["records.csv"])} >= {
            cohort["keep"],
            cohort["gone"],
        }
        assert analytics.analyse(s, world.dm, "transmission-at-amniocentesis")["overall"]["table"] == {
            "exposed": [0, 1], "unexposed": [1, 0]}  # fmt: skip
    with world.registry.session(world.entry_a) as s:
        subjects.withdraw_consent(
            s, world.entry_a, cohort["gone"], on=date(2026, 3, 1), reason="patient request"
        )
    with world.registry.session(world.dm) as s:
        for fmt in exports.FORMATS:
            files = exports.export(s, world.dm, fmt=fmt, profile="central").files
            assert all(cohort["gone"] not in text for text in files.values()), fmt
            assert any(cohort["keep"] in text for text in files.values()), fmt
        assert analytics.analyse(s, world.dm, "transmission-at-amniocentesis")["overall"]["table"] == {
            "exposed": [0, 1], "unexposed": [0, 0]}  # fmt: skip
        [site_a] = [row for row in analytics.dashboard(s, world.dm) if row["site"] == "FI01"]
        assert site_a["withdrawn"] == 1 and site_a["mothers"] == 2


def test_central_profile_is_pseudonymised(world: World, cohort: dict[str, str]) -> None:
    with world.registry.session(world.dm) as s:
        result = exports.export(s, world.dm, fmt="redcap", profile="central")
    rows = _records(result.files["records.csv"])
    header = list(rows[0])
    assert header[:5] == ["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
                          "redcap_data_access_group"]  # fmt: skip
    assert "mother_record_id" in header
    assert "maternal_birth_date" not in header and "nb_birth_date" not in header
    assert "hospital_record_number" not in header
    assert "A-KEEP" not in result.files["records.csv"]
    diagnosis = next(
        r
        for r in rows
        if r["record_id"] == cohort["keep"] and r["redcap_event_name"] == "maternal_diagnosis_arm_1"
    )
    # coarsened to the month of the shifted date, never the true month (issue 17, High 7)
    offset = timedelta(days=family_offset(world, cohort["keep"]))
    assert diagnosis["diagnosis_date"] == (date(2026, 1, 10) + offset).isoformat()[:7]
    assert diagnosis["enrolment_date"] == (date(2026, 1, 12) + offset).isoformat()[:7]
    exported_dictionary = {
        r["Variable / Field Name"]: r for r in _records(result.files["dictionary.csv"])
    }
    assert exported_dictionary["diagnosis_date"]["Text Validation Type OR Show Slider Number"] == ""
    newborn = next(r for r in rows if r["mother_record_id"] == cohort["keep"])
    assert newborn["ccmv_at_birth"] == "0" and newborn["redcap_event_name"] == "newborn_birth_arm_1"
    ae = next(r for r in rows if r["redcap_repeat_instrument"] == "adverse_event")
    assert (ae["redcap_repeat_instance"], ae["ae_term"], ae["ae_relation"]) == ("1", "nausea", "4")
    assert ae["treated"] == ""  # a repeating row carries only its instrument


def test_site_profile_is_identified(world: World, cohort: dict[str, str]) -> None:
    with world.registry.session(world.pi_a) as s:
        result = exports.export(s, world.pi_a, fmt="redcap", profile="site")
    rows = _records(result.files["records.csv"])
    keep = next(
        r
        for r in rows
        if r["record_id"] == cohort["keep"] and r["redcap_event_name"] == "maternal_diagnosis_arm_1"
    )
    assert keep["hospital_record_number"] == "A-KEEP"
    assert keep["maternal_birth_date"] == "1991-05-17"
    assert keep["diagnosis_date"] == "2026-01-10"
    assert keep["redcap_data_access_group"] == "fi01"


def test_every_export_is_logged(world: World, cohort: dict[str, str]) -> None:
    with world.registry.session(world.stat) as s:
        result = exports.export(s, world.stat, fmt="odm", profile="central")
    with world.registry.session(world.admin) as s:
        log = s.get(ExportLog, result.log_id)
        assert log is not None
        assert (log.user_id, log.format, log.profile, log.subjects, log.sha256) == (
            world.stat.user_id, "odm", "central", 3, result.sha256)  # fmt: skip
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (last.action, last.username, last.entity_id) == ("export", "stat", result.log_id)


def test_odm_132_structure(world: World, cohort: dict[str, str]) -> None:
    with world.registry.session(world.dm) as s:
        xml = exports.export(s, world.dm, fmt="odm", profile="central").files["study.odm.xml"]
    root = ET.fromstring(xml)
    assert (
        root.tag == f"{ODM}ODM"
        and root.get("ODMVersion") == "1.3.2"
        and root.get("FileType") == "Snapshot"
    )
    mdv = root.find(f"{ODM}Study/{ODM}MetaDataVersion")
    assert mdv is not None
    assert {e.get("OID") for e in mdv.findall(f"{ODM}StudyEventDef")} >= {
        "SE.AMNIOCENTESIS",
        "SE.MONTH_24",
    }
    assert mdv.find(f"{ODM}FormDef[@OID='F.ADVERSE_EVENT']").get("Repeating") == "Yes"  # type: ignore[union-attr]
    assert mdv.find(f"{ODM}ItemDef[@OID='I.MATERNAL_BIRTH_DATE']") is None  # identifier dropped
    subject = root.find(f"{ODM}ClinicalData/{ODM}SubjectData[@SubjectKey='{cohort['keep']}']")
    assert subject is not None
    assert subject.find(f"{ODM}SiteRef").get("LocationOID") == "LOC.FI01"  # type: ignore[union-attr]
    item = subject.find(
        f".//{ODM}StudyEventData[@StudyEventOID='SE.AMNIOCENTESIS']//{ODM}ItemData[@ItemOID='I.AMNIO_CMV_PCR']"
    )
    assert item is not None and item.get("Value") == "0"
    ae = subject.find(f".//{ODM}FormData[@FormOID='F.ADVERSE_EVENT']")
    assert ae is not None and ae.get("FormRepeatKey") == "1"


def test_fhir_ndjson_parses_as_r4(world: World, cohort: dict[str, str]) -> None:
    from fhir.resources.R4B.consent import Consent
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.patient import Patient
    from fhir.resources.R4B.researchstudy import ResearchStudy
    from fhir.resources.R4B.researchsubject import ResearchSubject

    with world.registry.session(world.dm) as s:
        files = exports.export(s, world.dm, fmt="fhir", profile="central").files
    kinds = {"Patient.ndjson": Patient, "ResearchSubject.ndjson": ResearchSubject,
             "Observation.ndjson": Observation, "ResearchStudy.ndjson": ResearchStudy,
             "Consent.ndjson": Consent}  # fmt: skip
    for name, model in kinds.items():
        lines = files[name].splitlines()
        assert lines, name
        for line in lines:
            model.model_validate(json.loads(line))
    patients = [json.loads(line) for line in files["Patient.ndjson"].splitlines()]
    newborn = next(p for p in patients if "link" in p)
    assert newborn["link"][0]["other"]["reference"] == f"Patient/{cohort['keep'].lower()}"
    assert all(len(p["identifier"]) == 1 for p in patients)  # pseudonym only, no record number
    consents = [json.loads(line) for line in files["Consent.ndjson"].splitlines()]
    months = {  # each family's consent month, shifted by its secret offset (issue 17, High 7)
        (date(2026, 1, 12) + timedelta(days=family_offset(world, cohort[k]))).isoformat()[:7]
        for k in ("keep", "gone")
    }
    assert len(consents) == 3 and {c["dateTime"] for c in consents} == months
    assert all("648/96" in c["policyRule"]["text"] for c in consents)


def family_offset(world: World, pseudonym: str) -> int:
    """The secret date offset of ``pseudonym``'s family (as only the database holds it)."""
    from sqlalchemy import select

    from cmvcds.registry.models import DateShift, Subject

    with world.registry.session(world.admin) as s:
        subject = s.scalars(select(Subject).where(Subject.pseudonym == pseudonym)).one()
        root = subject.mother_id or subject.id
        return s.scalars(select(DateShift.offset_days).where(DateShift.subject_id == root)).one()
