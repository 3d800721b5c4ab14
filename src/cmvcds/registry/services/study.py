"""Sites and users."""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cmvcds.errors import InputError
from cmvcds.registry.access import Actor, Permission, require
from cmvcds.registry.models import Role, Site, User, WebSession
from cmvcds.registry.security import hash_password

__all__ = [
    "actor_for",
    "create_site",
    "create_user",
    "set_user_active",
    "site_by_code",
    "user_by_name",
]

SITE_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")


def create_site(session: Session, actor: Actor, *, code: str, name: str) -> Site:
    require(actor, Permission.MANAGE_STUDY)
    if not SITE_CODE.match(code):
        raise InputError(
            f"site code {code!r}: 2–12 capital letters or digits, starting with a letter",
            field="code",
        )
    if session.scalars(select(Site).where(Site.code == code)).first():
        raise InputError(f"site {code!r} exists already", field="code")
    site = Site(code=code, name=name)
    session.add(site)
    session.flush()
    return site


def site_by_code(session: Session, code: str) -> Site:
    site = session.scalars(select(Site).where(Site.code == code)).first()
    if site is None:
        raise InputError(f"no site {code!r}", field="site")
    return site


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: Role | str,
    site_id: str | None = None,
) -> User:
    require(actor, Permission.MANAGE_STUDY)
    try:
        role = Role(role)
    except ValueError:
        raise InputError(
            f"role {role!r}: one of {', '.join(r.value for r in Role)}", field="role"
        ) from None
    if role.site_scoped and site_id is None:
        raise InputError(f"a {role.value} user needs a site", field="site")
    if not role.site_scoped and site_id is not None:
        raise InputError(f"a {role.value} is a central role and has no site", field="site")
    if session.scalars(select(User).where(User.username == username)).first():
        raise InputError(f"user {username!r} exists already", field="username")
    user = User(
        username=username, password_hash=hash_password(password), role=role.value, site_id=site_id
    )
    session.add(user)
    session.flush()
    return user


def user_by_name(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise InputError(f"no user {username!r}", field="username")
    return user


def set_user_active(session: Session, actor: Actor, username: str, *, active: bool) -> User:
    """Deactivate a user (who leaves the study: no login, every open session ends) or
    reactivate one; the user and their audit history are kept (21 CFR 11.10(d), 11.10(e))."""
    require(actor, Permission.MANAGE_STUDY)
    user = user_by_name(session, username)
    user.active = active
    if not active:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
    return user


def actor_for(user: User) -> Actor:
    return Actor(
        user_id=user.id, username=user.username, role=Role(user.role), site_id=user.site_id
    )
