"""What identifies a person, and hiding it from every role without the identity permission.

Identity in the registry is the hospital record number (``identity_links``, the pseudonym's
key back to the person, GDPR Art. 4(5)) and every CRF field the data dictionary flags
``Identifier? = y`` (the birth dates and the outcome date). Only the subject's own site
(data entry, investigator: ``Permission.READ_IDENTITY``) may see them; monitor, data manager,
statistician, administrator and reviewer never do — not on a form, not in the audit trail,
not in an export. Everything that shows stored values to a user goes through here.
"""

from __future__ import annotations

from typing import Protocol

from cmvcds.registry.access import Actor, Permission
from cmvcds.registry.dictionary import Crf

__all__ = [
    "HIDDEN",
    "IDENTITY_ENTITIES",
    "hides_identity",
    "identifier_fields",
    "is_identity_entry",
]

#: What a role without the identity permission reads in place of an identifying value.
HIDDEN = "(hidden: identifying)"
#: Tables whose every recorded value is identity.
IDENTITY_ENTITIES = frozenset({"identity_links"})


class _Entry(Protocol):
    entity: str
    field: str | None


def hides_identity(actor: Actor) -> bool:
    """Whether identity must be hidden from ``actor``."""
    return not actor.can(Permission.READ_IDENTITY)


def identifier_fields(crf: Crf) -> frozenset[str]:
    """The CRF fields flagged ``Identifier? = y`` in the dictionary in force."""
    return frozenset(row.field_name for row in crf.fields if row.identifier == "y")


def is_identity_entry(entry: _Entry, identifiers: frozenset[str]) -> bool:
    """Whether an audit entry's old/new values are identity (a record number, a birth date…)."""
    if entry.entity in IDENTITY_ENTITIES:
        return True
    if entry.entity == "data_values" and entry.field:
        return entry.field.rsplit("/", 1)[-1] in identifiers
    return False
