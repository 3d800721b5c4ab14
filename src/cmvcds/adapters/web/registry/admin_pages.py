"""The administrator's pages: users (role, site, active) and sites; create, deactivate, reactivate.

Every change goes through ``services.study`` (which requires ``MANAGE_STUDY`` and is audited by
the registry session like any other change); every form carries the session's CSRF token. A
deactivated user keeps their audit history and can no longer log in (their open sessions end);
the reason given for deactivating or reactivating is kept in the trail, as with the CLI.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from cmvcds.adapters.web.i18n import N_
from cmvcds.adapters.web.i18n import gettext as _
from cmvcds.adapters.web.registry.routes import (
    RegistryRoute,
    Viewer,
    ViewerDep,
    _denied,
    forbidden,
    may_open,
    page,
)
from cmvcds.adapters.web.texts import shown_error
from cmvcds.errors import InputError
from cmvcds.registry.access import Permission
from cmvcds.registry.models import Role, Site, User
from cmvcds.registry.services import study

__all__ = ["router"]

router = APIRouter(prefix="/registry", include_in_schema=False, route_class=RegistryRoute)
HERE = "/registry/admin"
#: What the page says after a change (``?done=<what>&name=<who>``: the redirect carries no prose).
DONE = {
    "user-created": N_("User %(name)s created"),
    "user-deactivated": N_("User %(name)s deactivated"),
    "user-reactivated": N_("User %(name)s reactivated"),
    "site-created": N_("Site %(name)s created"),
}


def _admin_page(viewer: Viewer, status: int = 200, error: str | None = None,
                message: str | None = None) -> HTMLResponse:  # fmt: skip
    sites = list(viewer.session.scalars(select(Site).order_by(Site.code)))
    users = list(viewer.session.scalars(select(User).order_by(User.username)))
    return page("registry_admin.html", status, title=N_("Users and sites"), viewer=viewer,
                users=users, sites=sites, codes={s.id: s.code for s in sites},
                roles=[r.value for r in Role], error=error and shown_error(error),
                message=message)  # fmt: skip


@router.get("/admin", response_class=HTMLResponse)
def admin_page(viewer: ViewerDep, done: str = "", name: str = "") -> HTMLResponse:
    if not may_open(viewer.actor, HERE):
        role = _(viewer.actor.role.value.replace("_", " "))
        return _denied(viewer, _("a %(role)s may not manage users and sites") % {"role": role}, 403)
    message = _(DONE[done]) % {"name": name} if done in DONE else None
    return _admin_page(viewer, message=message)


@router.post("/admin/users", response_model=None)
def create_user(
    viewer: ViewerDep,
    csrf: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    site: Annotated[str, Form()] = "",
) -> Response:
    if (refusal := forbidden(viewer, csrf, Permission.MANAGE_STUDY)) is not None:
        return refusal
    try:
        if not username.strip():
            raise InputError(_("a user needs a name"), field="username")
        if role not in {r.value for r in Role}:
            raise InputError(_("choose the user's role"), field="role")
        site_id = study.site_by_code(viewer.session, site).id if site else None
        with viewer.session.begin_nested():
            study.create_user(viewer.session, viewer.actor, username=username.strip(),
                              password=password, role=role, site_id=site_id)  # fmt: skip
    except InputError as error:
        return _admin_page(viewer, 422, error=str(error))
    return _done("user-created", username.strip())


@router.post("/admin/users/{username}/active", response_model=None)
def set_active(
    viewer: ViewerDep,
    username: str,
    csrf: Annotated[str, Form()] = "",
    active: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    if (refusal := forbidden(viewer, csrf, Permission.MANAGE_STUDY)) is not None:
        return refusal
    if username == viewer.actor.username:
        return _admin_page(viewer, 422, error=_("you cannot deactivate yourself"))
    if not reason.strip():  # as the CLI's --reason: why a user leaves or returns is kept
        return _admin_page(viewer, 422, error=_("give the reason (it is kept in the audit trail)"))
    viewer.session.info["reason"] = reason.strip()
    try:
        with viewer.session.begin_nested():
            study.set_user_active(viewer.session, viewer.actor, username, active=active == "1")
    except InputError as error:
        return _admin_page(viewer, 422, error=str(error))
    return _done("user-reactivated" if active == "1" else "user-deactivated", username)


@router.post("/admin/sites", response_model=None)
def create_site(
    viewer: ViewerDep,
    csrf: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    if (refusal := forbidden(viewer, csrf, Permission.MANAGE_STUDY)) is not None:
        return refusal
    try:
        if not name.strip():
            raise InputError(_("a site needs a name"), field="name")
        with viewer.session.begin_nested():
            study.create_site(viewer.session, viewer.actor, code=code.strip(), name=name.strip())
    except InputError as error:
        return _admin_page(viewer, 422, error=str(error))
    return _done("site-created", code.strip())


def _done(what: str, name: str) -> RedirectResponse:
    return RedirectResponse(f"{HERE}?{urlencode({'done': what, 'name': name})}", status_code=303)
