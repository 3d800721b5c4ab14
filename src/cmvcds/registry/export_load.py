"""What an export reads: the subjects the actor may export, their values, consents and form
status, with dates as the profile wants them (exact, coarsened or shifted; see ``dates.py``).
Coarsened dates are the months of the shifted dates, never the true months (issue 17, High 7).

Subjects who withdrew consent are never loaded. In the central profile the free-text fields
are withheld as ``free_text.py`` says (``free_text``: ``screen`` or ``withhold``), counted by
field in ``withheld``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from cmvcds.registry.access import Actor
from cmvcds.registry.dates import coarsen, family_offsets, shift
from cmvcds.registry.dictionary import Crf
from cmvcds.registry.free_text import (
    WITHHELD_FREE_TEXT,
    WITHHELD_IDENTIFIER,
    find_identifiers,
    free_text_fields,
    known_variants,
)
from cmvcds.registry.identity import identifier_fields
from cmvcds.registry.models import (
    Consent,
    DataQuery,
    DataValue,
    IdentityLink,
    QueryStatus,
    Site,
    Subject,
)
from cmvcds.registry.services.subjects import withdrawn_subquery

__all__ = ["FORM_STATUS", "ExportSubject", "Slot", "load_subjects"]

FORM_STATUS = {"incomplete": "0", "unverified": "1", "complete": "2"}  # REDCap's codes
Slot = tuple[str, str, int]  # event, instrument, instance
CHUNK = 5000


@dataclass(frozen=True)
class ExportSubject:
    key: str
    kind: str
    site: str
    mother: str | None
    identity: str | None
    consents: tuple[Consent, ...]
    values: dict[Slot, dict[str, str]]
    status: dict[Slot, str]  # slot → REDCap form status code
    redate: Callable[[str], str]  # how this subject's dates are written


def _exact(value: str) -> str:
    return value


def _shifted_month(value: str, offset_days: int) -> str:
    """The month of the shifted date: never the true month, so that a coarsened export adds
    nothing to a shifted one (true months and shifted days together give the offset away)."""
    return coarsen(shift(value, offset_days))


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


def load_subjects(
    session: Session, actor: Actor, crf: Crf, profile: str, wanted: set[str], policy: str,
    *, free_text: str = "screen", withheld: Counter[str] | None = None,
) -> list[ExportSubject]:  # fmt: skip
    """The subjects to export; ``policy`` is ``exact``, ``coarsen`` or ``shift``."""
    query = (
        select(Subject, Site.code)
        .join(Site, Site.id == Subject.site_id)
        .where(Subject.id.not_in(withdrawn_subquery()))
    )
    if profile == "site" or actor.role.site_scoped:
        query = query.where(Subject.site_id == actor.site_id)
    rows = list(session.execute(query.order_by(Subject.pseudonym)))
    ids = [subject.id for subject, _code in rows]
    pseudonyms = {subject.id: subject.pseudonym for subject, _code in rows}
    consents: dict[str, list[Consent]] = defaultdict(list)
    values: dict[str, dict[Slot, dict[str, str]]] = defaultdict(dict)
    queried: set[tuple[str, str, str, int]] = set()
    for chunk in _chunks(ids):
        for consent in session.scalars(select(Consent).where(Consent.subject_id.in_(chunk))):
            consents[consent.subject_id].append(consent)
        for cell in session.scalars(select(DataValue).where(DataValue.subject_id.in_(chunk))):
            slot = (cell.event, cell.instrument, cell.instance)
            values[cell.subject_id].setdefault(slot, {})[cell.field] = cell.value
        open_queries = select(DataQuery.subject_id, DataQuery.event, DataQuery.instrument,
                              DataQuery.instance).where(
            DataQuery.subject_id.in_(chunk), DataQuery.status != QueryStatus.CLOSED)  # fmt: skip
        queried |= {
            (str(s), str(e), str(i), int(n)) for s, e, i, n in session.execute(open_queries)
        }
    identities: dict[str, str] = {}
    if profile == "site" or free_text == "screen":  # central: read to screen with, never exported
        for chunk in _chunks(ids):
            links = select(IdentityLink.subject_id, IdentityLink.hospital_record_number).where(
                IdentityLink.subject_id.in_(chunk)
            )
            identities.update({str(sid): str(mrn) for sid, mrn in session.execute(links)})
    offsets = family_offsets(session, [s for s, _c in rows]) if policy != "exact" else {}
    screened = _FreeText(crf, free_text, identities, values, withheld) if profile != "site" else None
    out = []
    for subject, code in rows:
        redate: Callable[[str], str] = (
            partial(shift, offset_days=offsets[subject.id]) if policy == "shift"
            else partial(_shifted_month, offset_days=offsets[subject.id]) if policy == "coarsen"
            else _exact
        )  # fmt: skip
        slots = values.get(subject.id, {})
        status = {
            slot: _status(crf, slot, cells, (subject.id, *slot) in queried)
            for slot, cells in slots.items()
        }
        out.append(ExportSubject(
            key=subject.pseudonym, kind=subject.kind, site=code,
            mother=pseudonyms.get(subject.mother_id) if subject.mother_id else None,
            identity=identities.get(subject.id) if profile == "site" else None,
            consents=tuple(consents.get(subject.id, ())),
            values={slot: {k: redate(screened(subject, k, v) if screened else v)
                           for k, v in cells.items() if k in wanted}
                    for slot, cells in slots.items()},
            status=status, redate=redate,
        ))  # fmt: skip
    return out


def _status(crf: Crf, slot: Slot, cells: dict[str, str], open_query: bool) -> str:
    """REDCap's form status of one filled form: 0 incomplete, 1 unverified, 2 complete."""
    if crf.missing_required(slot[1], cells):
        return FORM_STATUS["incomplete"]
    return FORM_STATUS["unverified"] if open_query else FORM_STATUS["complete"]


class _FreeText:
    """The central profile's free text: each value as exported (``free_text.py``)."""

    def __init__(
        self, crf: Crf, policy: str, identities: dict[str, str],
        values: dict[str, dict[Slot, dict[str, str]]], withheld: Counter[str] | None,
    ) -> None:  # fmt: skip
        self.fields = free_text_fields(crf)
        self.identifiers = identifier_fields(crf)
        self.policy, self.identities, self.values = policy, identities, values
        self.withheld = withheld if withheld is not None else Counter()
        self.known: dict[str, list[str]] = {}

    def _known(self, subject: Subject) -> list[str]:
        if subject.id not in self.known:
            family = [subject.id] + ([subject.mother_id] if subject.mother_id else [])
            found = [self.identities[i] for i in family if i in self.identities]
            for member in family:
                for cells in self.values.get(member, {}).values():
                    found += [v for k, v in cells.items() if k in self.identifiers]
            self.known[subject.id] = known_variants(found)
        return self.known[subject.id]

    def __call__(self, subject: Subject, field: str, value: str) -> str:
        if field not in self.fields or not value:
            return value
        if self.policy == "withhold":
            self.withheld[field] += 1
            return WITHHELD_FREE_TEXT
        if find_identifiers(value, self._known(subject)):
            self.withheld[field] += 1
            return WITHHELD_IDENTIFIER
        return value
