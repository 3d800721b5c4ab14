"""The reviewers' page: the answer statements with their review status; submit, approve, return.

``GET /registry/review`` lists every statement and generated-statement template of the answer
pack with its effective status (the registry's record, else the pack's own); ``GET
/registry/review/{id}`` shows one with its history (from the audit trail); ``POST
/registry/review/{id}`` acts on it (CSRF token, role ``review_statements``: reviewer or
administrator). The transitions are the engine's; the date of an action is the page clock's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cmvcds.adapters.web.i18n import N_
from cmvcds.adapters.web.i18n import gettext as _
from cmvcds.adapters.web.registry.routes import (
    RegistryRoute,
    ViewerDep,
    _denied,
    forbidden,
    now,
    page,
    refused,
)
from cmvcds.errors import AccessDenied, InputError
from cmvcds.knowledge import Knowledge, load_knowledge
from cmvcds.knowledge.schemas.answers import ReviewAction
from cmvcds.registry.access import Permission
from cmvcds.registry.services import reviews

__all__ = ["router"]

router = APIRouter(prefix="/registry", include_in_schema=False, route_class=RegistryRoute)
Text = Annotated[str, Form()]
STATUSES = ("draft", "under_review", "approved", "returned")
#: The words the pages translate from a value: statuses (as labelled), actions, kinds, origins.
WORDS = (
    N_("draft"),
    N_("under review"),
    N_("approved"),
    N_("returned"),
    N_("submit"),
    N_("approve"),
    N_("return"),
    N_("guideline"),
    N_("label"),
    N_("research"),
    N_("statement"),
    N_("template"),
)


def _knowledge(request: Request) -> Knowledge:
    """The app's knowledge pack (its clinic's), else the shipped one."""
    clinic = getattr(request.app.state, "clinic", None)
    return clinic.knowledge if clinic is not None else load_knowledge()


@router.get("/review", response_class=HTMLResponse)
def review_list(viewer: ViewerDep, request: Request, status: str = "") -> HTMLResponse:
    knowledge = _knowledge(request)
    try:
        items = reviews.listing(viewer.session, viewer.actor, knowledge)
    except AccessDenied as error:
        return _denied(viewer, str(error), 403)
    counts = {s: sum(item.status == s for item in items) for s in STATUSES}
    shown = [item for item in items if item.status == status] if status in STATUSES else items
    return page("registry_review.html", title=N_("Statement review"), viewer=viewer, items=shown,
                counts=counts, shown_status=status, version=knowledge.version,
                actions=[a.value for a in ReviewAction])  # fmt: skip


@router.get("/review/{statement_id}", response_class=HTMLResponse)
def review_detail(viewer: ViewerDep, request: Request, statement_id: str) -> HTMLResponse:
    knowledge = _knowledge(request)
    try:
        items = reviews.listing(viewer.session, viewer.actor, knowledge)
        events = reviews.history(viewer.session, viewer.actor, statement_id)
    except AccessDenied as error:
        return _denied(viewer, str(error), 403)
    item = next((i for i in items if i.id == statement_id), None)
    if item is None:
        return _denied(viewer, _("no answer statement %(id)s") % {"id": statement_id})
    return page("registry_review_item.html", title=statement_id, viewer=viewer,
                item=item, events=events, version=knowledge.version,
                actions=[a.value for a in ReviewAction])  # fmt: skip


@router.post("/review/{statement_id}", response_model=None)
def review_action(
    viewer: ViewerDep,
    request: Request,
    clock: Annotated[datetime, Depends(now)],
    statement_id: str,
    action: Text,
    csrf: Text = "",
    comment: Text = "",
) -> Response:
    if (refusal := forbidden(viewer, csrf, Permission.REVIEW_STATEMENTS)) is not None:
        return refusal
    try:
        with viewer.session.begin_nested():
            reviews.act(viewer.session, viewer.actor, _knowledge(request), statement_id, action,
                        on=clock.date(), comment=comment)  # fmt: skip
    except AccessDenied as error:
        return refused(viewer, error)
    except InputError as error:
        return _denied(viewer, str(error), 422)
    return RedirectResponse(f"/registry/review/{statement_id}", status_code=303)
