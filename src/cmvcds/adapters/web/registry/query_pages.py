"""Queries from the form page: a monitor opens one on a field, the site answers, the monitor closes.

Roles decide (``open_query``, ``answer_query``, ``close_query``); a query of another site is
refused like one that does not exist. After an action the browser returns to the query's form.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cmvcds.adapters.web.registry.routes import (
    RegistryRoute,
    ViewerDep,
    _denied,
    forbidden,
    refused,
)
from cmvcds.errors import AccessDenied, InputError
from cmvcds.registry.models import DataQuery, Subject
from cmvcds.registry.services import crf

__all__ = ["router"]

router = APIRouter(prefix="/registry", include_in_schema=False, route_class=RegistryRoute)
Text = Annotated[str, Form()]


def _form_url(session: Session, query: DataQuery) -> str:
    subject = session.get(Subject, query.subject_id)
    assert subject is not None  # a query's subject is never deleted
    suffix = f"?instance={query.instance}" if query.instance != 1 else ""
    return f"/registry/subjects/{subject.pseudonym}/{query.event}/{query.instrument}{suffix}"


@router.post("/subjects/{pseudonym}/{event}/{instrument}/queries", response_model=None)
def open_query(
    viewer: ViewerDep,
    pseudonym: str,
    event: str,
    instrument: str,
    field: Text,
    text: Text,
    csrf: Text = "",
    instance: int = 1,
) -> Response:
    if (refusal := forbidden(viewer, csrf)) is not None:
        return refusal
    try:
        if not text.strip():
            raise InputError("a query needs a question", field="text")
        with viewer.session.begin_nested():
            query = crf.open_query(viewer.session, viewer.actor, pseudonym, event, instrument,
                                   field, text.strip(), instance=instance)  # fmt: skip
    except AccessDenied as error:
        return refused(viewer, error)
    except InputError as error:
        return _denied(viewer, str(error), 422)
    return RedirectResponse(_form_url(viewer.session, query), status_code=303)


@router.post("/queries/{query_id}", response_model=None)
def query_action(
    viewer: ViewerDep,
    query_id: str,
    action: Text,
    csrf: Text = "",
    answer: Text = "",
    back: Text = "",
) -> Response:
    if (refusal := forbidden(viewer, csrf)) is not None:
        return refusal
    try:
        with viewer.session.begin_nested():
            if action == "answer":
                if not answer.strip():
                    raise InputError("an answer is empty", field="answer")
                query = crf.answer_query(viewer.session, viewer.actor, query_id, answer.strip())
            elif action == "close":
                query = crf.close_query(viewer.session, viewer.actor, query_id)
            else:
                raise InputError(f"unknown action {action!r}", field="action")
    except AccessDenied as error:
        return refused(viewer, error)
    except InputError as error:
        return _denied(viewer, str(error), 422)
    target = _form_url(viewer.session, query) if back == "form" else "/registry/"
    return RedirectResponse(target, status_code=303)
