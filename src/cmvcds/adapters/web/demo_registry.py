"""Demo users of the registry for ``make run`` (``cmvcds serve --demo-registry``): one per role
at a demo site, with the password the README documents, so that a new user can log in at once.

Never in a real deployment: demo users are added only when the flag asks for them, and a
database that already has any other user is refused (a real registry is never given a user
with a published password). A real site is set up with ``cmvcds registry create-site`` and
``create-user`` (docs/registry-setup.md).
"""

from __future__ import annotations

from sqlalchemy import select

from cmvcds.errors import RegistryError
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.db import Registry
from cmvcds.registry.models import Role, User
from cmvcds.registry.models.site import Site
from cmvcds.registry.services import study

__all__ = ["DEMO_PASSWORD", "DEMO_SITE", "DEMO_USERS", "seed_demo_registry"]

#: The demo site (its code prefixes the pseudonyms of its subjects); its name is a proper name,
#: Italian as the name of a site of the protocol would be, in either language of the pages.
DEMO_SITE = ("DEMO01", "Ospedale dimostrativo (solo dati di prova)")
#: Published in the README: only ever valid in a demo database.
DEMO_PASSWORD = "demo-only-password"
#: One user per role; site roles belong to the demo site.
DEMO_USERS = {
    Role.SITE_DATA_ENTRY: "demo-entry",
    Role.SITE_INVESTIGATOR: "demo-investigator",
    Role.MONITOR: "demo-monitor",
    Role.DATA_MANAGER: "demo-datamanager",
    Role.STATISTICIAN: "demo-statistician",
    Role.ADMINISTRATOR: "demo-admin",
    Role.REVIEWER: "demo-reviewer",
}


def seed_demo_registry(registry: Registry) -> list[str]:
    """Add the demo site and the missing demo users to a migrated ``registry``; the names added.

    Raises ``RegistryError`` when the database has a user that is not a demo user.
    """
    demo_names = set(DEMO_USERS.values())
    added: list[str] = []
    with registry.session(SYSTEM, reason="demo registry") as session:
        names = set(session.scalars(select(User.username)))
        real = sorted(names - demo_names)
        if real:
            raise RegistryError(
                f"this registry has real users ({', '.join(real[:3])}…): demo users with a "
                "published password are never added to it; start without --demo-registry"
            )
        code, name = DEMO_SITE
        site = session.scalars(select(Site).where(Site.code == code)).first()
        if site is None:
            site = study.create_site(session, SYSTEM, code=code, name=name)
        for role, username in DEMO_USERS.items():
            if username in names:
                continue
            study.create_user(
                session,
                SYSTEM,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                site_id=site.id if role.site_scoped else None,
            )
            added.append(username)
    return added
