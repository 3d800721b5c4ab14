"""Exports: REDCap flat CSV + data dictionary, CDISC ODM 1.3.2 XML, FHIR R4 NDJSON.

Profiles:
    site     identified, one site only (its investigator): identifier fields, the hospital
             record number and exact dates
    central  pseudonymised, every site (data manager, statistician): identifier fields
             (``Identifier? = y``) dropped; dates shifted by each family's secret offset
             (``dates="shift"``, see ``dates.py``) or, the default, the month of the shifted
             date (``dates="coarsen"``, ``YYYY-MM``; never the true month: true months and
             shifted days together give the offset away, issue 17); the exported dictionary
             says which; free text (the adverse-event term…) is screened for identifiers and
             withheld whole where one is found (``free_text="screen"``, the default) or withheld
             altogether (``free_text="withhold"``), see ``free_text.py``; the export's
             README.txt says which and how many values were withheld
The hospital record number of the identified (site) profile is in the REDCap CSV (a
``hospital_record_number`` column, flagged ``Identifier? = y`` in its dictionary) and in the
FHIR Patient (an ``identifier``), not in the CDISC ODM (probe12 #7, ADR 0032-fix12): ODM 1.3.2
has no element for a subject's other identifiers (``SubjectData`` carries only ``SubjectKey``,
the pseudonym here), and putting it in an invented form would add a CRF item the study's
dictionary does not have; a site that needs its record numbers with ODM data joins on the
pseudonym with its REDCap or FHIR export.
REDCap's flat CSV carries a ``<form>_complete`` column after each form's fields, with REDCap's
codes: 0 Incomplete (a required field is missing), 1 Unverified (complete, but a query on the
form is still open), 2 Complete; empty on a row where the form has no data.
Subjects who withdrew consent are never exported. Every export is written to ``export_log``
and to the audit trail, with the SHA-256 of what was produced.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cmvcds.errors import InputError
from cmvcds.knowledge.schemas.registry import DictionaryField
from cmvcds.registry.access import Actor, Permission, require
from cmvcds.registry.audit import Change, append
from cmvcds.registry.dates import DATE_POLICIES
from cmvcds.registry.dictionary import Crf, choices
from cmvcds.registry.export_load import FORM_STATUS, ExportSubject, load_subjects
from cmvcds.registry.exports_fhir import fhir_files
from cmvcds.registry.exports_redcap import export_dictionary, records_csv, setup_files
from cmvcds.registry.free_text import FREE_TEXT_POLICIES, free_text_fields
from cmvcds.registry.models import (
    AuditEntry,
    DataValue,
    ExportLog,
    Subject,
    new_id,
)
from cmvcds.registry.services.crf import current_crf

__all__ = [
    "DATE_POLICIES",
    "FORMATS",
    "FORM_STATUS",
    "FREE_TEXT_POLICIES",
    "PROFILES",
    "ExportResult",
    "export",
]

FORMATS = ("redcap", "odm", "fhir")
PROFILES = ("site", "central")
ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"


@dataclass(frozen=True)
class ExportResult:
    """The files of one export (name → text), how many subjects, and its log id."""

    files: dict[str, str]
    subjects: int
    sha256: str
    log_id: str


def export(
    session: Session,
    actor: Actor,
    *,
    fmt: str,
    profile: str,
    now: datetime | None = None,
    dates: str = "coarsen",
    free_text: str = "screen",
) -> ExportResult:
    """Export the subjects ``actor`` may export in format ``fmt`` and ``profile``; logged.

    ``dates`` (central profile only): ``coarsen`` to the month or ``shift`` by the secret offset.
    ``free_text`` (central profile only): ``screen`` withholds a free-text value in which an
    identifier is found, ``withhold`` every free-text value (``free_text.py``).
    """
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r}: one of {', '.join(FORMATS)}", field="format")
    if profile not in PROFILES:
        raise InputError(f"profile {profile!r}: one of {', '.join(PROFILES)}", field="profile")
    if dates not in DATE_POLICIES:
        raise InputError(f"dates {dates!r}: one of {', '.join(DATE_POLICIES)}", field="dates")
    if free_text not in FREE_TEXT_POLICIES:
        raise InputError(
            f"free text {free_text!r}: one of {', '.join(FREE_TEXT_POLICIES)}", field="free_text"
        )
    policy = "exact" if profile == "site" else dates
    require(actor, Permission.EXPORT_SITE if profile == "site" else Permission.EXPORT_CENTRAL)
    if profile == "site" and not actor.site_id:
        raise InputError("the identified profile is for a site's own investigator", field="profile")
    crf = current_crf(session)
    fields = _profile_fields(crf, profile, policy)
    withheld: Counter[str] = Counter()
    subjects = load_subjects(session, actor, crf, profile, {f.field_name for f in fields}, policy,
                             free_text=free_text, withheld=withheld)  # fmt: skip
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    if fmt == "redcap":
        exported = export_dictionary(fields, profile)
        files = {
            "records.csv": records_csv(crf, exported, subjects),
            **setup_files(crf, exported, [s.site for s in subjects]),
        }
    elif fmt == "odm":
        audits = _audit_records(session, actor) if profile == "site" else {}
        files = {"study.odm.xml": _odm(crf, fields, subjects, stamp, audits)}
    else:
        files = fhir_files(crf, fields, subjects, profile)
    if profile == "central":
        files["README.txt"] = central_readme(crf, fmt, policy, free_text, withheld, stamp)
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    log = ExportLog(
        id=new_id(), user_id=actor.user_id or actor.username, site_id=actor.site_id, format=fmt,
        profile=profile, subjects=len(subjects), sha256=digest.hexdigest(),
    )  # fmt: skip
    session.add(log)
    session.flush()
    append(
        session,
        [
            Change(
                "export",
                "export_log",
                log.id,
                actor.site_id,
                f"{fmt}/{profile}/{policy}",
                None,
                f"{len(subjects)} subjects",
            )
        ],
        reason=f"export {fmt} {profile}",
    )
    return ExportResult(files=files, subjects=len(subjects), sha256=log.sha256, log_id=log.id)


def central_readme(
    crf: Crf, fmt: str, dates: str, free_text: str, withheld: Counter[str], stamp: str
) -> str:
    """What the pseudonymised export did to identity, and what it cannot promise."""
    fields = sorted(free_text_fields(crf))
    dated = {"coarsen": COARSEN_NOTE, "shift": SHIFT_NOTE}[dates]
    if free_text == "withhold":
        text_rule = (
            f"every value of the free-text field(s) {', '.join(fields) or '(none)'} is replaced by "
            '"[withheld: free text]".'
        )
    else:
        text_rule = (
            f"the free-text field(s) {', '.join(fields) or '(none)'} were screened for identifiers "
            "(the subject's record number and birth dates as recorded at the site, Italian tax "
            "codes, phone numbers, e-mail addresses, street addresses, names after a title or "
            'written "Name SURNAME", and a common given name beside a capitalised word in '
            "either order); a value in which one was found is replaced whole by "
            '"[withheld: possible identifier]". The screen cannot recognise every personal name '
            "or description of a person: free text in this export is NOT guaranteed to be free "
            "of identity. Export with free text withheld (free_text=withhold) where the study's "
            "data protection assessment requires it."
        )
    counts = ", ".join(f"{name}: {n}" for name, n in sorted(withheld.items())) or "none"
    return (
        f"Pseudonymised (central) export of {crf.design.name} ({crf.design.oid}), format {fmt}, "
        f"made {stamp}.\n\n"
        "Identity: subjects are named by their registry pseudonym only; the hospital record "
        "number and every field flagged Identifier? = y are left out.\n"
        f"Dates: {dated}.\n"
        f"Free text: {text_rule}\n"
        f"Values withheld: {counts}.\n"
        "Subjects who withdrew consent are not exported. This export is logged (export_log and "
        "the audit trail) with the SHA-256 of its files.\n"
    )


SHIFT_NOTE = "shifted by a secret per-family offset (intervals kept; not the real date)"
COARSEN_NOTE = (
    "year-month (YYYY-MM) of the date shifted by a secret per-family offset (not the real month)"
)


def _profile_fields(crf: Crf, profile: str, policy: str) -> tuple[DictionaryField, ...]:
    if profile == "site":
        return crf.fields
    kept = []
    for row in crf.fields:
        if row.identifier == "y":
            continue
        if row.validation.startswith("date"):
            update = (
                {"field_note": SHIFT_NOTE}
                if policy == "shift"
                else {"validation": "", "field_note": COARSEN_NOTE}
            )
            row = row.model_copy(update=update)
        kept.append(row)
    return tuple(kept)


def _oid(prefix: str, name: str) -> str:
    return f"{prefix}.{name.upper()}"


AuditKey = tuple[str, str, str, int, str]  # subject key, event, instrument, instance, field
Audit = tuple[str, str, str | None]  # user id, ISO timestamp, reason


def _audit_records(session: Session, actor: Actor) -> dict[AuditKey, Audit]:
    """The last change of every value of the actor's site (identified profile only: in a
    pseudonymised export, true timestamps would give the secret date offset away)."""
    rows = session.execute(
        select(Subject.pseudonym, DataValue.event, DataValue.instrument, DataValue.instance,
               DataValue.field, AuditEntry.user_id, AuditEntry.username, AuditEntry.at,
               AuditEntry.reason)
        .join(Subject, Subject.id == DataValue.subject_id)
        .join(AuditEntry, AuditEntry.entity_id == DataValue.id)
        .where(Subject.site_id == actor.site_id, AuditEntry.entity == DataValue.__tablename__)
        .order_by(AuditEntry.seq)
    )  # fmt: skip
    return {(key, ev, ins, int(n), f): (uid or user, at, reason)
            for key, ev, ins, n, f, uid, user, at, reason in rows}  # fmt: skip


def _text(parent: ET.Element, tag: str, text: str) -> None:
    q = f"{{{ODM_NS}}}"
    ET.SubElement(ET.SubElement(parent, f"{q}{tag}"), f"{q}TranslatedText",
                  {"xml:lang": "en"}).text = text  # fmt: skip


def _items(row: DictionaryField) -> list[tuple[str, str, dict[str, str]]]:
    """ODM items of a field: (name, label, code list); a checkbox is one item per choice,
    ``field___code``, coded 1 (its label) / 0 (unchecked), as REDCap's own ODM has them."""
    if row.field_type == "checkbox":
        return [(f"{row.field_name}___{code}", f"{row.field_label}: {label}",
                 {"1": label, "0": "Unchecked"}) for code, label in choices(row).items()]  # fmt: skip
    return [(row.field_name, row.field_label, choices(row))]


def _odm(
    crf: Crf,
    fields: tuple[DictionaryField, ...],
    subjects: list[ExportSubject],
    stamp: str,
    audits: dict[AuditKey, Audit],
) -> str:
    ET.register_namespace("", ODM_NS)
    q = f"{{{ODM_NS}}}"
    root = ET.Element(f"{q}ODM", {
        "FileType": "Snapshot", "FileOID": f"{crf.design.oid}.{stamp}", "CreationDateTime": stamp,
        "ODMVersion": "1.3.2", "Granularity": "All",
    })  # fmt: skip
    study = ET.SubElement(root, f"{q}Study", {"OID": crf.design.oid})
    gv = ET.SubElement(study, f"{q}GlobalVariables")
    ET.SubElement(gv, f"{q}StudyName").text = crf.design.oid
    ET.SubElement(gv, f"{q}StudyDescription").text = crf.design.name
    ET.SubElement(gv, f"{q}ProtocolName").text = crf.design.oid
    mdv_oid = f"MDV.{crf.version}"
    mdv = ET.SubElement(
        study, f"{q}MetaDataVersion", {"OID": mdv_oid, "Name": f"Dictionary {crf.version}"}
    )
    protocol = ET.SubElement(mdv, f"{q}Protocol")
    for event in crf.design.events:
        ET.SubElement(
            protocol,
            f"{q}StudyEventRef",
            {"StudyEventOID": _oid("SE", event.name), "Mandatory": "No"},
        )
    forms: dict[str, list[DictionaryField]] = defaultdict(list)
    for row in fields:
        forms[row.form_name].append(row)
    for event in crf.design.events:
        se = ET.SubElement(mdv, f"{q}StudyEventDef", {
            "OID": _oid("SE", event.name), "Name": event.label, "Repeating": "No", "Type": "Scheduled",
        })  # fmt: skip
        for instrument in event.instruments:
            if instrument in forms:
                ET.SubElement(
                    se, f"{q}FormRef", {"FormOID": _oid("F", instrument), "Mandatory": "No"}
                )
    for form in forms:
        repeating = "Yes" if form in crf.design.repeating else "No"
        fd = ET.SubElement(
            mdv, f"{q}FormDef", {"OID": _oid("F", form), "Name": form, "Repeating": repeating}
        )
        ET.SubElement(
            fd, f"{q}ItemGroupRef", {"ItemGroupOID": _oid("IG", form), "Mandatory": "Yes"}
        )
    for form, rows in forms.items():
        ig = ET.SubElement(
            mdv, f"{q}ItemGroupDef", {"OID": _oid("IG", form), "Name": form, "Repeating": "No"}
        )
        for row in rows:
            for name, _label, _codes in _items(row):
                ET.SubElement(ig, f"{q}ItemRef", {
                    "ItemOID": _oid("I", name), "Mandatory": "Yes" if row.required == "y" else "No",
                })  # fmt: skip
    for row in fields:
        for name, label, codes in _items(row):
            dtype = "integer" if row.field_type == "checkbox" else _odm_type(row)
            item = ET.SubElement(
                mdv, f"{q}ItemDef", {"OID": _oid("I", name), "Name": name, "DataType": dtype}
            )
            _text(item, "Question", label)
            if codes:
                ET.SubElement(item, f"{q}CodeListRef", {"CodeListOID": _oid("CL", name)})
    for row in fields:
        for name, _label, codes in _items(row):
            if not codes:
                continue
            dtype = "integer" if all(c.lstrip("-").isdigit() for c in codes) else "text"
            cl = ET.SubElement(
                mdv, f"{q}CodeList", {"OID": _oid("CL", name), "Name": name, "DataType": dtype}
            )
            for code, decode in codes.items():
                _text(ET.SubElement(cl, f"{q}CodeListItem", {"CodedValue": code}), "Decode", decode)
    admin = ET.SubElement(root, f"{q}AdminData")
    for user in sorted({a[0] for a in audits.values()}):
        ET.SubElement(admin, f"{q}User", {"OID": _oid("USR", user)})
    for site in sorted({s.site for s in subjects}):
        location = ET.SubElement(
            admin, f"{q}Location", {"OID": _oid("LOC", site), "Name": site, "LocationType": "Site"}
        )
        ET.SubElement(location, f"{q}MetaDataVersionRef", {
            "StudyOID": crf.design.oid, "MetaDataVersionOID": mdv_oid, "EffectiveDate": stamp[:10],
        })  # fmt: skip
    clinical = ET.SubElement(
        root, f"{q}ClinicalData", {"StudyOID": crf.design.oid, "MetaDataVersionOID": mdv_oid}
    )
    order = {e.name: i for i, e in enumerate(crf.design.events)}
    by_name = {row.field_name: row for row in fields}
    for subject in subjects:
        sd = ET.SubElement(clinical, f"{q}SubjectData", {"SubjectKey": subject.key})
        ET.SubElement(sd, f"{q}SiteRef", {"LocationOID": _oid("LOC", subject.site)})
        by_event: dict[str, list[tuple[str, int, dict[str, str]]]] = defaultdict(list)
        for (slot_event, instrument, instance), cells in subject.values.items():
            by_event[slot_event].append((instrument, instance, cells))
        for event_name in sorted(by_event, key=lambda e: order.get(e, 99)):
            sed = ET.SubElement(sd, f"{q}StudyEventData", {"StudyEventOID": _oid("SE", event_name)})
            for instrument, instance, cells in sorted(
                by_event[event_name], key=lambda t: (t[0], t[1])
            ):
                attrs = {"FormOID": _oid("F", instrument)}
                if instrument in crf.design.repeating:
                    attrs["FormRepeatKey"] = str(instance)
                fdata = ET.SubElement(sed, f"{q}FormData", attrs)
                igd = ET.SubElement(
                    fdata, f"{q}ItemGroupData", {"ItemGroupOID": _oid("IG", instrument)}
                )
                for row in forms.get(instrument, []):
                    raw = cells.get(row.field_name)
                    if raw is None or row.field_name not in by_name:
                        continue
                    audit = audits.get(
                        (subject.key, event_name, instrument, instance, row.field_name)
                    )
                    ticked = raw.split(",")
                    for name, _label, _codes in _items(row):
                        value = (
                            raw
                            if row.field_type != "checkbox"
                            else ("1" if name.rsplit("___", 1)[1] in ticked else "0")
                        )
                        data = ET.SubElement(
                            igd, f"{q}ItemData", {"ItemOID": _oid("I", name), "Value": value}
                        )
                        if audit is not None:
                            _audit(data, audit, subject.site)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _audit(parent: ET.Element, audit: Audit, site: str) -> None:
    """ODM ``AuditRecord``: who (user OID), where (site), when, why (the reason for change)."""
    q = f"{{{ODM_NS}}}"
    user, at, reason = audit
    record = ET.SubElement(parent, f"{q}AuditRecord")
    ET.SubElement(record, f"{q}UserRef", {"UserOID": _oid("USR", user)})
    ET.SubElement(record, f"{q}LocationRef", {"LocationOID": _oid("LOC", site)})
    ET.SubElement(record, f"{q}DateTimeStamp").text = at
    if reason:
        ET.SubElement(record, f"{q}ReasonForChange").text = reason


def _odm_type(row: DictionaryField) -> str:
    if row.validation == "integer" or row.field_type in ("yesno", "truefalse"):
        return "integer"
    if row.validation == "number":
        return "float"
    if row.validation.startswith("date"):
        return "date"
    return "text"
