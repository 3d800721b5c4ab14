"""Dates in the central (pseudonymised) profile: coarsened to the month, or shifted.

    shift     every date moves by the family's secret offset (1–364 days earlier); a mother and
              her newborns share one offset, so every interval between their dates is kept
              (onset → amniocentesis → birth → follow-up) while no real date is disclosed
    coarsen   every date becomes the ``YYYY-MM`` of its shifted date (the central profile's
              default; intervals within a month are lost). Never the true month: a role given
              true months and shifted days could intersect them and recover the offset to about
              a day (issue 17, High 7); coarsened shifted dates tell nothing the shifted export
              does not already

The offset is drawn with ``secrets`` when the mother is enrolled (or at the first central
export of older data), is stored in the site database (``date_shifts``), and is never exported
nor written to the audit trail.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cmvcds.registry.models import DateShift, Subject

__all__ = [
    "DATE_POLICIES",
    "MAX_SHIFT_DAYS",
    "coarsen",
    "family_offsets",
    "new_offset",
    "remember_offset",
    "shift",
]

DATE_POLICIES = ("coarsen", "shift")
MAX_SHIFT_DAYS = 364
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?![\d-])")


def new_offset() -> int:
    """A secret offset in days: 1 to ``MAX_SHIFT_DAYS`` days earlier (never 0)."""
    return -(1 + secrets.randbelow(MAX_SHIFT_DAYS))


def remember_offset(session: Session, mother: Subject) -> DateShift:
    """Draw and store the offset of a newly enrolled mother (and her future newborns)."""
    row = DateShift(subject_id=mother.id, site_id=mother.site_id, offset_days=new_offset())
    session.add(row)
    return row


def family_offsets(session: Session, people: Iterable[Subject]) -> dict[str, int]:
    """Subject id → offset in days, the mother's for a newborn; missing offsets are drawn now."""
    people = list(people)
    roots = {p.id: p.mother_id or p.id for p in people}
    known: dict[str, int] = {}
    wanted = sorted(set(roots.values()))
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        query = select(DateShift.subject_id, DateShift.offset_days).where(
            DateShift.subject_id.in_(chunk)
        )
        known.update({str(s): int(o) for s, o in session.execute(query)})
    missing = [root for root in wanted if root not in known]
    if missing:
        sites = {p.id: p.site_id for p in people}
        for root in missing:
            site = sites.get(root) or next(p.site_id for p in people if roots[p.id] == root)
            row = DateShift(subject_id=root, site_id=site, offset_days=new_offset())
            session.add(row)
            known[root] = row.offset_days
        session.flush()
    return {pid: known[root] for pid, root in roots.items()}


def shift(value: str, offset_days: int) -> str:
    """``YYYY-MM-DD`` (optionally followed by a time) moved by ``offset_days``."""
    day = _day(value)
    if day is None:
        return value
    return (day + timedelta(days=offset_days)).isoformat() + value[10:]


def coarsen(value: str) -> str:
    """``YYYY-MM-DD…`` → ``YYYY-MM``; anything else unchanged."""
    return value if _day(value) is None else value[:7]


def _day(value: str) -> date | None:
    if not _ISO_DATE.match(value):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
