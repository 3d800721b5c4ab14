"""The audit trail as a reader sees it: filtered, paginated, labelled, identity hidden.

A page of entries (newest first) for the roles with ``READ_AUDIT``: site roles see only their
site's entries; filters by subject (pseudonym), user, form and date (UTC); each entry is
labelled with the subject's pseudonym, the site's code and the form field instead of internal
ids. Old and new values that are identity (``identity.py``) are replaced by ``HIDDEN`` for
every role without the identity permission (issue 17, High 4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from cmvcds.registry.access import Actor, Permission, require
from cmvcds.registry.identity import HIDDEN, hides_identity, identifier_fields, is_identity_entry
from cmvcds.registry.models import (
    AuditEntry,
    Consent,
    DataQuery,
    DataValue,
    DateShift,
    IdentityLink,
    Site,
    StoredAssessment,
    Subject,
)
from cmvcds.registry.services.crf import current_crf

__all__ = ["AuditFilter", "AuditPage", "AuditRow", "audit_page"]

PAGE_SIZE = 100
#: Tables whose rows belong to one subject (``subject_id``).
_SUBJECT_TABLES = (DataValue, DataQuery, Consent, IdentityLink, DateShift, StoredAssessment)


@dataclass(frozen=True)
class AuditFilter:
    """What the reader asked for; every part optional. ``before``: the page ends below this seq."""

    subject: str = ""
    user: str = ""
    form: str = ""
    date_from: date | None = None
    date_to: date | None = None
    before: int | None = None
    limit: int = PAGE_SIZE


@dataclass(frozen=True)
class AuditRow:
    """One entry as shown: labels instead of ids, identity hidden where it must be."""

    seq: int
    at: str
    username: str
    site: str
    action: str
    subject: str
    what: str
    field: str
    old: str
    new: str
    reason: str
    #: ``field`` as a reader names it: "Maternal diagnosis · laboratory #2 · Date of sample"
    field_label: str = ""


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    older: int | None  # the ``before`` of the next (older) page, None at the start of the trail
    #: what the filters offer: the users who appear in the trail the reader may see, and the
    #: forms of the study (instrument → its name)
    users: list[str] = field(default_factory=list)
    forms: dict[str, str] = field(default_factory=dict)


def audit_page(session: Session, actor: Actor, wanted: AuditFilter) -> AuditPage:
    """The page of entries ``actor`` may read that match ``wanted``."""
    require(actor, Permission.READ_AUDIT)
    limit = max(1, min(wanted.limit, 1000))
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit + 1)
    for condition in _conditions(session, actor, wanted):
        query = query.where(condition)
    entries = list(session.scalars(query))
    more = len(entries) > limit
    entries = entries[:limit]
    owners = _owners(session, entries)
    pseudonyms = {str(i): str(p) for i, p in session.execute(select(Subject.id, Subject.pseudonym))}
    sites = {str(i): str(c) for i, c in session.execute(select(Site.id, Site.code))}
    hide = hides_identity(actor)
    crf = current_crf(session)
    identifiers = identifier_fields(crf)
    events = {event.name: event.label for event in crf.design.events}
    rows = []
    for entry in entries:
        secret = hide and is_identity_entry(entry, identifiers)
        subject_id = entry.entity_id if entry.entity == "subjects" else owners.get(entry.entity_id)
        rows.append(AuditRow(
            seq=entry.seq, at=entry.at[:19].replace("T", " "), username=entry.username,
            site=sites.get(entry.site_id or "", ""), action=entry.action,
            subject=pseudonyms.get(subject_id or "", ""), what=_what(entry.entity),
            field=entry.field or "", old=_shown(entry.old_value, secret),
            new=_shown(entry.new_value, secret), reason=entry.reason or "",
            field_label=_field_label(entry.field or "", events, crf.by_name),
        ))  # fmt: skip
    users = select(AuditEntry.username).distinct().order_by(AuditEntry.username)
    if actor.role.site_scoped:
        users = users.where(AuditEntry.site_id == actor.site_id)
    collected = {name for event in crf.design.events for name in event.instruments}
    forms = {name: name.replace("_", " ") for name in crf.forms if name in collected}
    return AuditPage(rows=rows, older=entries[-1].seq if more and entries else None,
                     users=[str(u) for u in session.scalars(users)], forms=forms)  # fmt: skip


_CELL = re.compile(r"(?P<event>[^/]+)/(?P<form>[^#/]+)#(?P<instance>\d+)/(?P<field>.+)")


def _field_label(name: str, events: dict[str, str], fields: Any) -> str:
    """A CRF cell's "event/instrument#instance/field" named with the labels of the forms."""
    cell = _CELL.fullmatch(name)
    if cell is None:
        return name
    row = fields.get(cell["field"])
    return " · ".join((
        events.get(cell["event"], cell["event"]),
        f"{cell['form'].replace('_', ' ')} #{cell['instance']}",
        row.field_label if row is not None else cell["field"],
    ))  # fmt: skip


def _conditions(session: Session, actor: Actor, wanted: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if actor.role.site_scoped:
        conditions.append(AuditEntry.site_id == actor.site_id)
    if wanted.before is not None:
        conditions.append(AuditEntry.seq < max(0, min(wanted.before, 2**31 - 1)))  # seq: 32-bit
    if wanted.user.strip():
        conditions.append(AuditEntry.username == wanted.user.strip())
    if wanted.form.strip():
        conditions.append(AuditEntry.entity == "data_values")
        conditions.append(
            AuditEntry.field.like(f"%/{_escaped(wanted.form.strip())}#%", escape="\\")
        )
    if wanted.date_from is not None:
        conditions.append(AuditEntry.at >= wanted.date_from.isoformat())
    if wanted.date_to is not None:
        conditions.append(AuditEntry.at < (wanted.date_to + timedelta(days=1)).isoformat())
    if wanted.subject.strip():
        subject_id = session.scalar(
            select(Subject.id).where(Subject.pseudonym == wanted.subject.strip().upper())
        )
        ids = {subject_id} if subject_id else set()
        for table in _SUBJECT_TABLES if subject_id else ():
            ids.update(session.scalars(select(table.id).where(table.subject_id == subject_id)))
        conditions.append(AuditEntry.entity_id.in_(sorted(ids)) if ids else AuditEntry.seq < 0)
    return conditions


def _owners(session: Session, entries: list[AuditEntry]) -> dict[str, str]:
    """Row id → subject id for the rows of the page that belong to a subject."""
    wanted = sorted({e.entity_id for e in entries if e.entity != "subjects"})
    owners: dict[str, str] = {}
    for table in _SUBJECT_TABLES:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = session.execute(select(table.id, table.subject_id).where(table.id.in_(chunk)))
            owners.update({str(i): str(s) for i, s in rows})
    return owners


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_WHAT = {
    "data_values": "form value", "data_queries": "query", "consents": "consent",
    "identity_links": "record-number link", "date_shifts": "date shift", "subjects": "subject",
    "assessments": "assessment", "users": "user", "sites": "site", "export_log": "export",
    "statement_reviews": "statement review",
}  # fmt: skip


def _what(entity: str) -> str:
    return _WHAT.get(entity, entity.replace("_", " "))


def _shown(value: str | None, secret: bool) -> str:
    if value is None:
        return ""
    if value.startswith("sealed:"):
        return "(sealed)"
    return HIDDEN if secret else value
