"""Case report form entry: validation from the dictionary, soft checks, queries, event grid."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cmvcds.errors import InputError, RegistryError
from cmvcds.knowledge.schemas.registry import DateCheck, SoftCheck
from cmvcds.registry.access import Actor, Permission, not_found, require, require_site
from cmvcds.registry.date_checks import CONSENT, date_findings
from cmvcds.registry.dictionary import Crf, crf_from_knowledge, parse_dictionary
from cmvcds.registry.free_text import (
    Finding,
    find_identifiers,
    free_text_fields,
    known_variants,
)
from cmvcds.registry.identity import hides_identity, identifier_fields
from cmvcds.registry.models import (
    AuditEntry,
    AuditHead,
    Consent,
    DataQuery,
    DataValue,
    DictionaryVersion,
    FormVersion,
    IdentityLink,
    QueryStatus,
    Subject,
    utc_now,
)
from cmvcds.registry.services.subjects import get_subject

__all__ = [
    "ChangedSince",
    "FormResult",
    "IdentifierInFreeText",
    "Opened",
    "StaleForm",
    "answer_query",
    "close_query",
    "current_crf",
    "event_grid",
    "form_instances",
    "hidden_fields",
    "import_dictionary",
    "open_query",
    "opened",
    "read_form",
    "save_form",
]

_CRF_CACHE: dict[str, Crf] = {}
SAFETY_FIELDS = ("ae_severity", "ae_relation", "treated")  # the safety table's fields


def current_crf(session: Session) -> Crf:
    """The newest imported dictionary, else the knowledge pack's."""
    latest = session.scalars(
        select(DictionaryVersion).order_by(DictionaryVersion.imported_at.desc()).limit(1)
    ).first()
    if latest is None:
        key = "pack"
        if key not in _CRF_CACHE:
            _CRF_CACHE[key] = crf_from_knowledge()
        return _CRF_CACHE[key]
    if latest.sha256 not in _CRF_CACHE:
        _CRF_CACHE[latest.sha256] = crf_from_knowledge(fields=parse_dictionary(latest.csv_text))
    return _CRF_CACHE[latest.sha256]


def import_dictionary(
    session: Session, actor: Actor, csv_text: str, *, version: str
) -> DictionaryVersion:
    """Store a REDCap data dictionary as the forms in force (validated first)."""
    from cmvcds.registry.audit import Change, append

    require(actor, Permission.MANAGE_STUDY)
    fields = parse_dictionary(csv_text)
    design = crf_from_knowledge().design
    known = {row.form_name for row in fields}
    for event in design.events:
        lost = [i for i in event.instruments if i not in known]
        if lost:
            raise InputError(
                f"the dictionary lacks instrument(s) {', '.join(lost)} of event {event.name!r}"
            )
    names = {row.field_name for row in fields}
    used = {c.field for c in design.soft_checks} | set(SAFETY_FIELDS)
    for analysis in design.analyses:
        used |= {analysis.exposure.field, analysis.outcome.field}
        used |= {component.field for component in analysis.any_of}
        used |= {analysis.strata.field} if analysis.strata else set()
    if used - names:
        raise InputError(
            f"the dictionary lacks field(s) {', '.join(sorted(used - names))} that the study's "
            "checks and analyses use"
        )
    digest = hashlib.sha256(csv_text.encode()).hexdigest()
    row = DictionaryVersion(version=version, sha256=digest, csv_text=csv_text)
    session.add(row)
    session.flush()
    append(
        session, [Change("import", "dictionary_versions", row.id, None, "version", None, version)]
    )
    return row


@dataclass(frozen=True)
class FormResult:
    """A saved form: its values, missing required fields, and queries opened by soft checks."""

    values: dict[str, str]
    missing: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Opened:
    """What a form page was drawn from, carried by the page and given back with its save: the
    form instance's version (0: never saved) and the audit trail's last entry at that moment."""

    version: int
    seen: int = 0


@dataclass(frozen=True)
class ChangedSince:
    """One value of the form that another save changed after the page was opened."""

    field: str
    shown: str  # what the user's page showed (as the page gave it back)
    recorded: str  # what is recorded now
    by: str
    at: datetime | None


class StaleForm(RegistryError):
    """A save from a page opened before another save of the same form: nothing was written.

    ``changes`` names each value that differs now from what the page showed, with who changed it
    and when; ``now`` is what the page must carry to save over them knowingly."""

    def __init__(self, changes: list[ChangedSince], now: Opened, saved_by: str,
                 saved_at: datetime | None) -> None:  # fmt: skip
        listed = (
            "; ".join(
                f"{c.field}: {c.shown or '(empty)'} → {c.recorded or '(empty)'} by {c.by}"
                + (f" at {c.at:%Y-%m-%d %H:%M} UTC" if c.at else "")
                for c in changes
            )
            or f"saved again by {saved_by}"
        )
        super().__init__(f"this form was changed since you opened it ({listed}); nothing was saved")
        self.changes, self.now, self.saved_by, self.saved_at = changes, now, saved_by, saved_at


class IdentifierInFreeText(InputError):
    """Free text that seems to identify a person (``free_text.py``): refused at entry.

    ``confirmable``: only findings that may be false alarms (the user may confirm that the text
    identifies no one); a certain identifier (the subject's own record number or birth date, a
    valid codice fiscale, an e-mail address) must be taken out of the text."""

    def __init__(self, found: dict[str, list[Finding]]) -> None:
        self.found = found
        self.confirmable = not any(f.certain for items in found.values() for f in items)
        listed = "; ".join(
            f"{name}: " + ", ".join(f"{f.kind} {f.text!r}" for f in items)
            for name, items in found.items()
        )
        advice = (
            "write it without them or, if it identifies no one, tick the confirmation and save again"
            if self.confirmable
            else "write it without them"
        )
        super().__init__(
            f"free text reaches the central (pseudonymised) registry and must not identify anyone; "
            f"found {listed}: {advice}",
            field=next(iter(found)),
        )


def _known_identifiers(session: Session, crf: Crf, subject: Subject) -> list[str]:
    """The subject's (and her mother's) record number and identifier field values as recorded."""
    family = [subject.id] + ([subject.mother_id] if subject.mother_id else [])
    known = list(session.scalars(
        select(IdentityLink.hospital_record_number).where(IdentityLink.subject_id.in_(family))
    ))  # fmt: skip
    identifiers = identifier_fields(crf)
    if identifiers:
        known += session.scalars(
            select(DataValue.value).where(
                DataValue.subject_id.in_(family), DataValue.field.in_(identifiers)
            )
        )
    return known_variants(known)


def _version_row(
    session: Session, subject_id: str, event: str, instrument: str, instance: int
) -> FormVersion | None:
    return session.scalars(
        select(FormVersion).where(
            FormVersion.subject_id == subject_id, FormVersion.event == event,
            FormVersion.instrument == instrument, FormVersion.instance == instance,
        )
    ).first()  # fmt: skip


def _head_seq(session: Session) -> int:
    return int(session.scalar(select(AuditHead.seq).where(AuditHead.id == 1)) or 0)


def opened(
    session: Session,
    actor: Actor,
    pseudonym: str,
    event: str,
    instrument: str,
    *,
    instance: int = 1,
) -> Opened:
    """The token a form page carries: read *before* the values it shows, so that a save made
    between the two makes the page's save refused (never the other way round)."""
    subject = get_subject(session, actor, pseudonym)
    seen = _head_seq(session)
    row = _version_row(session, subject.id, event, instrument, instance)
    return Opened(version=row.version if row else 0, seen=seen)


def _take_version(
    session: Session, actor: Actor, subject_id: str, event: str, instrument: str, instance: int,
    expected: int | None,
) -> bool:  # fmt: skip
    """Move the form's version on by one, atomically, if it is still ``expected`` (None: whatever
    it is: a write that was not opened from a page). False: another save came first.

    ``UPDATE … WHERE version = expected`` is the compare-and-set: on PostgreSQL a concurrent
    saver waits for the row, then finds the version moved and updates nothing; the first save of
    a form is an INSERT that the unique key lets only one transaction make. On SQLite every
    writer holds the database's write lock from BEGIN, so the same statements serialise."""
    key = (FormVersion.subject_id == subject_id, FormVersion.event == event,
           FormVersion.instrument == instrument, FormVersion.instance == instance)  # fmt: skip
    stamp = {"saved_by": actor.username, "saved_at": utc_now()}
    moved = session.execute(
        update(FormVersion)
        .where(*key, *(() if expected is None else (FormVersion.version == expected,)))
        .values(version=FormVersion.version + 1, **stamp)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) == 1:
        return True
    if expected not in (None, 0):
        return False
    try:
        with session.begin_nested():
            session.execute(insert(FormVersion).values(
                subject_id=subject_id, event=event, instrument=instrument, instance=instance,
                version=1, **stamp,
            ))  # fmt: skip
    except IntegrityError:
        return False  # another transaction made the first save meanwhile
    return True


def _stale(
    session: Session, subject_id: str, event: str, instrument: str, instance: int,
    opened_with: Opened, shown_values: Mapping[str, str],
) -> StaleForm:  # fmt: skip
    """What changed in the form since the page was opened, and who changed it."""
    cells = _cells(session, subject_id, event, instrument, instance)
    row = _version_row(session, subject_id, event, instrument, instance)
    now = Opened(version=row.version if row else 0, seen=_head_seq(session))
    saved_by = row.saved_by if row else "?"
    saved_at = row.saved_at if row else None
    by_cell: dict[str, tuple[str, datetime | None]] = {}
    ids = {cell.id: name for name, cell in cells.items()}
    if ids:
        entries = session.execute(
            select(AuditEntry.entity_id, AuditEntry.username, AuditEntry.at)
            .where(AuditEntry.seq > opened_with.seen, AuditEntry.entity == "data_values",
                   AuditEntry.entity_id.in_(ids))
            .order_by(AuditEntry.seq)
        )  # fmt: skip
        for entity_id, username, at in entries:
            by_cell[ids[entity_id]] = (username, datetime.fromisoformat(at))
    changes = []
    for name in sorted(set(shown_values) | set(cells)):
        recorded = cells[name].value if name in cells else ""
        shown_value = shown_values.get(name, "")
        if (name in shown_values and recorded != shown_value) or (
            name not in shown_values and name in by_cell
        ):
            who, when = by_cell.get(name, (saved_by, saved_at))
            changes.append(ChangedSince(name, shown_value, recorded, who, when))
    return StaleForm(changes, now, saved_by, saved_at)


def _cells(
    session: Session, subject_id: str, event: str, instrument: str, instance: int
) -> dict[str, DataValue]:
    rows = session.scalars(
        select(DataValue).where(
            DataValue.subject_id == subject_id, DataValue.event == event,
            DataValue.instrument == instrument, DataValue.instance == instance,
        )
    )  # fmt: skip
    return {row.field: row for row in rows}


def save_form(
    session: Session,
    actor: Actor,
    pseudonym: str,
    event: str,
    instrument: str,
    values: Mapping[str, str],
    *,
    instance: int = 1,
    reason: str | None = None,
    today: date | None = None,
    opened_with: Opened | None = None,
    shown: Mapping[str, str] | None = None,
    confirm_free_text: bool = False,
    decimal: str = ".",
) -> FormResult:
    """Validate and store ``values`` (field → text; ``""`` clears a field; a value equal to the
    recorded one is left alone).

    Hard errors refuse the whole form (``InputError`` naming each field), hard date checks
    included. Changing or clearing a recorded value needs ``reason``. Soft checks (soft date
    checks included) open a query for the monitor. ``today`` is the date "no future date"
    checks compare with (the pages pass their clock; else the UTC date now).

    ``opened_with``: the version the page was opened at. The save moves the form's version on
    with a compare-and-set (``_take_version``); if another save came first it raises
    ``StaleForm`` naming what changed (against ``shown``, the values the page showed) and writes
    nothing, unless what is recorded now is already exactly what was submitted (a double
    submission: nothing to do). Without it (a write not made from a page) the version simply
    moves on, so that pages open on the form become stale.

    Free text that seems to identify a person is refused (``IdentifierInFreeText``) unless every
    finding is uncertain and ``confirm_free_text`` says the user checked it identifies no one.

    Numbers are stored canonical (``numbers.canonical``), typed with ``decimal`` as the decimal
    separator (the page's language: ``numbers.DECIMAL``); checkbox codes once each, in order.
    """
    require(actor, Permission.ENTER_DATA)
    subject = get_subject(session, actor, pseudonym)
    crf = current_crf(session)
    crf.check_slot(event, instrument, instance, subject.kind)
    values, wrong = crf.canonical(
        instrument, {k: str(v).strip() for k, v in values.items()}, decimal
    )
    if wrong:
        raise InputError(
            "; ".join(f"{name}: {message}" for name, message in wrong.items()), field=instrument
        )
    if crf.record_id_field in values:
        raise InputError(
            "the record id is the subject's pseudonym and cannot be entered",
            field=crf.record_id_field,
        )
    existing = _cells(session, subject.id, event, instrument, instance)

    def differs(name: str, value: str) -> bool:
        return (existing[name].value if name in existing else "") != value

    submitted = values
    values = {k: v for k, v in values.items() if differs(k, v)}
    errors = crf.validate(instrument, values)
    if errors:
        raise InputError(
            "; ".join(f"{name}: {message}" for name, message in errors.items()), field=instrument
        )
    free = free_text_fields(crf)
    typed = {k: v for k, v in values.items() if k in free and v}
    if typed:
        known = _known_identifiers(session, crf, subject)
        found = {k: hits for k, v in typed.items() if (hits := find_identifiers(v, known))}
        if found:
            refusal = IdentifierInFreeText(found)
            if not (refusal.confirmable and confirm_free_text):
                raise refusal
    if opened_with is not None and values:
        # Compare-and-set first: once it holds, no other save of this form can come between
        # the values read above and the writes below (they all move the version on).
        if not _take_version(session, actor, subject.id, event, instrument, instance,
                             opened_with.version):  # fmt: skip
            existing = _cells(session, subject.id, event, instrument, instance)
            if not any(differs(k, v) for k, v in submitted.items()):
                recorded = {name: cell.value for name, cell in existing.items()}
                return FormResult(recorded, crf.missing_required(instrument, recorded))
            raise _stale(session, subject.id, event, instrument, instance, opened_with,
                         shown or {})  # fmt: skip
    elif values:
        _take_version(session, actor, subject.id, event, instrument, instance, None)
    form_now = {name: cell.value for name, cell in existing.items()} | values
    dated = date_findings(crf.design.date_checks, instrument, {k: v for k, v in form_now.items() if v},
                          _record_dates(session, subject.id), today or datetime.now(UTC).date())  # fmt: skip
    refused = [check for check in dated if check.severity == "hard"]
    if refused:
        raise InputError(
            "; ".join(f"{check.field}: {check.message}" for check in refused), field=instrument
        )
    changes = [k for k, v in values.items() if k in existing and existing[k].value != v]
    if changes and not (reason and reason.strip()):
        raise RegistryError(
            f"changing recorded value(s) {', '.join(changes)} needs a reason (21 CFR 11.10(e))"
        )
    if reason:
        session.info["reason"] = reason
    pending = {
        q.check_id
        for q in session.scalars(
            select(DataQuery).where(
                DataQuery.subject_id == subject.id, DataQuery.event == event,
                DataQuery.instrument == instrument, DataQuery.instance == instance,
                DataQuery.status != QueryStatus.CLOSED,
            )
        )
    }  # fmt: skip
    # Everything is read and decided before the one flush below: the flush writes the audit
    # trail, whose head stays locked until the commit, so nothing slow may follow it.
    current = {name: cell.value for name, cell in existing.items()}
    for name, value in values.items():
        cell = existing.get(name)
        if cell is None and value != "":
            session.add(
                DataValue(
                    subject_id=subject.id, site_id=subject.site_id, event=event,
                    instrument=instrument, instance=instance, field=name, value=value,
                )
            )  # fmt: skip
        elif cell is not None and value == "":
            session.delete(cell)
        elif cell is not None and cell.value != value:
            cell.value = value
        if value == "":
            current.pop(name, None)
        else:
            current[name] = value
    queries = []
    soft = crf.soft_findings(instrument, {k: v for k, v in values.items() if v})
    asked: list[SoftCheck | DateCheck] = [*soft, *(c for c in dated if c.severity == "soft")]
    for check in asked:
        if check.id in pending:
            continue  # the monitor already has this question open
        queries.append(DataQuery(
            subject_id=subject.id, site_id=subject.site_id, event=event, instrument=instrument,
            instance=instance, field=check.field, check_id=check.id, text=check.message,
            opened_by=f"check:{check.id}",
        ))  # fmt: skip
    session.add_all(queries)
    session.flush()
    opened = [query.id for query in queries]
    return FormResult(
        values=current, missing=crf.missing_required(instrument, current), queries=opened
    )


def _record_dates(session: Session, subject_id: str) -> dict[str, str]:
    """The subject's recorded values by field (first instance of each) and consent date."""
    record: dict[str, str] = {}
    rows = session.scalars(
        select(DataValue).where(DataValue.subject_id == subject_id).order_by(DataValue.instance)
    )
    for row in rows:
        record.setdefault(row.field, row.value)
    consent = session.scalars(
        select(Consent.signed_on)
        .where(Consent.subject_id == subject_id)
        .order_by(Consent.signed_on)
    ).first()
    if consent is not None:
        record[CONSENT] = consent.isoformat()
    return record


def read_form(
    session: Session,
    actor: Actor,
    pseudonym: str,
    event: str,
    instrument: str,
    *,
    instance: int = 1,
) -> dict[str, str]:
    """The form's stored values; identifier fields are left out for a role that may not see
    identity (``identity.py``: ``hidden_fields`` names them for the page)."""
    subject = get_subject(session, actor, pseudonym)
    hidden = hidden_fields(session, actor)
    return {
        name: cell.value
        for name, cell in _cells(session, subject.id, event, instrument, instance).items()
        if name not in hidden
    }


def hidden_fields(session: Session, actor: Actor) -> frozenset[str]:
    """The CRF fields whose values ``actor`` may not read (identifiers, unless site staff)."""
    return identifier_fields(current_crf(session)) if hides_identity(actor) else frozenset()


def event_grid(session: Session, actor: Actor, pseudonym: str) -> dict[str, dict[str, str]]:
    """Events × instruments with a status: ``empty``, ``incomplete``, ``complete``, ``query``."""
    subject = get_subject(session, actor, pseudonym)
    crf = current_crf(session)
    values: dict[tuple[str, str, int], dict[str, str]] = {}
    for row in session.scalars(select(DataValue).where(DataValue.subject_id == subject.id)):
        values.setdefault((row.event, row.instrument, row.instance), {})[row.field] = row.value
    open_queries = {
        (q.event, q.instrument)
        for q in session.scalars(
            select(DataQuery).where(
                DataQuery.subject_id == subject.id, DataQuery.status != QueryStatus.CLOSED
            )
        )
    }
    grid: dict[str, dict[str, str]] = {}
    for event in crf.design.events:
        if event.subject != subject.kind:
            continue
        grid[event.name] = {}
        for instrument in event.instruments:
            filled = [v for (e, i, _n), v in values.items() if e == event.name and i == instrument]
            if (event.name, instrument) in open_queries:
                status = "query"
            elif not filled:
                status = "empty"
            elif any(crf.missing_required(instrument, v) for v in filled):
                status = "incomplete"
            else:
                status = "complete"
            grid[event.name][instrument] = status
    return grid


def form_instances(
    session: Session, actor: Actor, pseudonym: str
) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """The recorded instances of each repeating instrument, by (event, instrument): each
    instance with its status (``incomplete``, ``complete``, ``query``), lowest first. What the
    event grid lists, with "Add another" opening the next instance (REDCap's repeating forms)."""
    subject = get_subject(session, actor, pseudonym)
    crf = current_crf(session)
    values: dict[tuple[str, str, int], dict[str, str]] = {}
    for row in session.scalars(select(DataValue).where(DataValue.subject_id == subject.id)):
        if row.instrument in crf.design.repeating:
            values.setdefault((row.event, row.instrument, row.instance), {})[row.field] = row.value
    queried = {
        (q.event, q.instrument, q.instance)
        for q in session.scalars(
            select(DataQuery).where(
                DataQuery.subject_id == subject.id, DataQuery.status != QueryStatus.CLOSED
            )
        )
    }
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for (event, instrument, instance), filled in sorted(values.items()):
        if (event, instrument, instance) in queried:
            status = "query"
        elif crf.missing_required(instrument, filled):
            status = "incomplete"
        else:
            status = "complete"
        found.setdefault((event, instrument), []).append((instance, status))
    return found


def _query(session: Session, actor: Actor, query_id: str) -> DataQuery:
    # Locked and read afresh: two users acting on one query at once act one after the other,
    # the second on the status the first left (an answered query is not answered again).
    query = session.get(DataQuery, query_id, with_for_update=True, populate_existing=True)
    if query is None:
        raise not_found("query", query_id)
    require_site(actor, query.site_id, "query", query_id)
    return query


def open_query(
    session: Session,
    actor: Actor,
    pseudonym: str,
    event: str,
    instrument: str,
    field_name: str,
    text: str,
    *,
    instance: int = 1,
) -> DataQuery:
    """A monitor or data manager opens a query on a field."""
    require(actor, Permission.OPEN_QUERY)
    subject = get_subject(session, actor, pseudonym)
    if field_name not in current_crf(session).by_name:
        raise InputError(f"unknown field {field_name!r}", field="field")
    query = DataQuery(
        subject_id=subject.id, site_id=subject.site_id, event=event, instrument=instrument, instance=instance,
        field=field_name, text=text, opened_by=actor.username,
    )  # fmt: skip
    session.add(query)
    session.flush()
    return query


def answer_query(session: Session, actor: Actor, query_id: str, answer: str) -> DataQuery:
    """The site answers an open query."""
    require(actor, Permission.ANSWER_QUERY)
    query = _query(session, actor, query_id)
    if query.status != QueryStatus.OPEN:
        raise InputError(
            f"query {query_id} is {query.status} (by another user since you opened it, or before); "
            "only an open query can be answered"
        )
    query.answer, query.status, query.answered_at = answer, QueryStatus.ANSWERED, utc_now()
    session.flush()
    return query


def close_query(session: Session, actor: Actor, query_id: str) -> DataQuery:
    """The monitor closes an answered query (or an open one raised in error)."""
    require(actor, Permission.CLOSE_QUERY)
    query = _query(session, actor, query_id)
    if query.status == QueryStatus.CLOSED:
        raise InputError(f"query {query_id} is closed already")
    query.status, query.closed_at = QueryStatus.CLOSED, utc_now()
    session.flush()
    return query


def open_query_count(session: Session, actor: Actor) -> int:
    query = (
        select(func.count()).select_from(DataQuery).where(DataQuery.status != QueryStatus.CLOSED)
    )
    if actor.role.site_scoped:
        query = query.where(DataQuery.site_id == actor.site_id)
    return int(session.scalar(query) or 0)
