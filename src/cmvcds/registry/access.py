"""Who may do what: the acting user, role permissions and site scoping.

Site roles (data entry, investigator) see and change only their own site's records. Central
roles see every site; the statistician sees only pseudonymised data and analyses. A record of
another site and a record that does not exist give the same refusal, so a site-A user cannot
learn whether a site-B identifier exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cmvcds.errors import AccessDenied
from cmvcds.registry.roles import Role

__all__ = ["SYSTEM", "Actor", "Permission", "not_found", "require", "require_site"]


class Permission(StrEnum):
    ENTER_DATA = "enter_data"
    READ_DATA = "read_data"
    READ_IDENTITY = "read_identity"
    MANAGE_CONSENT = "manage_consent"
    OPEN_QUERY = "open_query"
    ANSWER_QUERY = "answer_query"
    CLOSE_QUERY = "close_query"
    EXPORT_SITE = "export_site"
    EXPORT_CENTRAL = "export_central"
    ANALYSE = "analyse"
    READ_AUDIT = "read_audit"
    MANAGE_STUDY = "manage_study"
    REVIEW_STATEMENTS = "review_statements"


_P = Permission
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.SITE_DATA_ENTRY: frozenset(
        {_P.ENTER_DATA, _P.READ_DATA, _P.READ_IDENTITY, _P.ANSWER_QUERY, _P.MANAGE_CONSENT}
    ),
    Role.SITE_INVESTIGATOR: frozenset(
        {
            _P.ENTER_DATA,
            _P.READ_DATA,
            _P.READ_IDENTITY,
            _P.ANSWER_QUERY,
            _P.MANAGE_CONSENT,
            _P.EXPORT_SITE,
            _P.READ_AUDIT,
            _P.ANALYSE,
        }
    ),
    Role.MONITOR: frozenset({_P.READ_DATA, _P.OPEN_QUERY, _P.CLOSE_QUERY, _P.READ_AUDIT}),
    Role.DATA_MANAGER: frozenset(
        {_P.READ_DATA, _P.OPEN_QUERY, _P.CLOSE_QUERY, _P.READ_AUDIT, _P.EXPORT_CENTRAL, _P.ANALYSE}
    ),
    Role.STATISTICIAN: frozenset({_P.EXPORT_CENTRAL, _P.ANALYSE}),
    Role.ADMINISTRATOR: frozenset(
        {_P.READ_DATA, _P.READ_AUDIT, _P.MANAGE_STUDY, _P.EXPORT_CENTRAL, _P.ANALYSE}
        | {_P.REVIEW_STATEMENTS}
    ),
    Role.REVIEWER: frozenset({_P.REVIEW_STATEMENTS}),
}


@dataclass(frozen=True)
class Actor:
    """The user a transaction acts for (``user_id`` None: the command line acting as system)."""

    user_id: str | None
    username: str
    role: Role
    site_id: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]

    def sees_site(self, site_id: str | None) -> bool:
        """Whether records of ``site_id`` are visible to this actor."""
        return not self.role.site_scoped or (self.site_id is not None and self.site_id == site_id)


SYSTEM = Actor(user_id=None, username="system", role=Role.ADMINISTRATOR)


def require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise AccessDenied(
            f"user {actor.username!r} ({actor.role.value}) may not {permission.value.replace('_', ' ')}"
        )


def not_found(kind: str, key: str) -> AccessDenied:
    """The one refusal for 'absent' and 'not yours' alike."""
    return AccessDenied(f"no {kind} {key!r} visible to you")


def require_site(actor: Actor, site_id: str | None, kind: str, key: str) -> None:
    if not actor.sees_site(site_id):
        raise not_found(kind, key)
