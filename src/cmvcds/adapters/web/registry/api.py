"""The registry's JSON API under ``/api/v1/registry`` (read-only, plus starting a session).

Authentication is the pages' session: the ``cmvcds_registry`` cookie, or the same token as
``Authorization: Bearer <token>`` (``POST /api/v1/registry/sessions`` starts one, with the
login's throttling). Every answer is scoped like the pages (a site user sees only their site;
another site's subject is refused like an absent one). Errors are ``application/problem+json``
whatever app mounts the router: 401 no or expired session, 403 role, 404 not visible, 422 input,
503 (with ``Retry-After``) when another user's change held a lock longer than the registry waits
(that refusal and the 409 conflict say their ``detail`` in the page language of the request:
``lang`` cookie or ``Accept-Language``; the ``title`` stays the English key).
A request's transaction commits before its answer is sent.

    POST /sessions                       {username, password} → {token, csrf_token, expires_at}
                                         (429 + Retry-After while a client must wait)
    GET  /subjects?limit=&offset=        subjects visible to the user
    GET  /subjects/{pseudonym}           one subject and its event grid (events × forms status)
    GET  /dashboard                      per site: enrolment, completeness, open queries
    GET  /analyses                       every outcome analysis (methods named) and safety table
    GET  /analyses/{analysis_id}         one analysis
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cmvcds.adapters.api.problems import ProblemResponse, problem_responses, problems_of
from cmvcds.adapters.web.i18n import gettext as _
from cmvcds.adapters.web.registry.routes import (
    BUSY,
    CONFLICT,
    COOKIE,
    _registry,
    client_address,
    now,
)
from cmvcds.errors import AccessDenied, InputError
from cmvcds.registry import analytics
from cmvcds.registry.access import Actor
from cmvcds.registry.db import is_conflict, is_lock_timeout
from cmvcds.registry.models import Site
from cmvcds.registry.security import LoginThrottled, login, resolve_session
from cmvcds.registry.services import crf, study, subjects

__all__ = ["router"]


class Unauthenticated(Exception):
    """No session, or an expired one."""


def _problem(status: int, title: str, detail: str, **extra: Any) -> ProblemResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = ProblemResponse(body, status_code=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cmvcds-registry"'
    if status == 503:
        response.headers["Retry-After"] = "1"
    return response


class ProblemRoute(APIRoute):
    """A route whose refusals are problem documents even without the app's handlers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except Unauthenticated as error:
                return _problem(401, "Not authenticated", str(error))
            except LoginThrottled as error:
                response = _problem(429, "Too many failed logins", str(error))
                response.headers["Retry-After"] = str(error.retry_after)
                return response
            except AccessDenied as error:
                refused = "may not" in str(error)
                return _problem(403 if refused else 404, "Forbidden" if refused else "Not found",
                                str(error))  # fmt: skip
            except InputError as error:
                return _problem(422, "Invalid input", error.message, errors=problems_of(error))
            except RequestValidationError as error:
                errors = [{"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]}
                          for e in error.errors()]  # fmt: skip
                return _problem(422, "Invalid input", "the request is malformed", errors=errors)
            except DBAPIError as error:
                if is_conflict(error):
                    return _problem(409, "Conflict", _(CONFLICT))
                if not is_lock_timeout(error):
                    raise
                return _problem(503, "Busy", _(BUSY))

        return run


router = APIRouter(
    prefix="/api/v1/registry",
    tags=["registry"],
    route_class=ProblemRoute,
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)


class Caller:
    """The authenticated user of an API request and its database session."""

    def __init__(self, actor: Actor, session: Session) -> None:
        self.actor, self.session = actor, session


def _token(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.cookies.get(COOKIE)


def _caller(request: Request, clock: Annotated[datetime, Depends(now)]) -> Iterator[Caller]:
    token = _token(request)
    if not token:
        raise Unauthenticated("log in: a session cookie or a bearer token is required")
    registry = _registry(request)
    with registry.session(None) as probe:
        try:
            user, _web = resolve_session(probe, token, now=clock)
        except AccessDenied as error:
            raise Unauthenticated(str(error)) from None
        actor = study.actor_for(user)
    with registry.session(actor) as session:
        yield Caller(actor, session)


# scope="function": the transaction ends when the route returns, before the answer is sent.
CallerDep = Annotated[Caller, Depends(_caller, scope="function")]
MAX_OFFSET = 10**9  # more subjects than any registry holds; larger is a 422, not a 5xx


#: What the strict JSON reader (domain/documents.py) accepts in any string of a body, published
#: in the OpenAPI (the reader enforces it before the model is built): no C0/C1 control other than
#: tab and line breaks, no bidirectional override, no lone surrogate.
PRINTABLE = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ud800-\udfff]*$"


class Credentials(BaseModel):
    """A login: nothing else is accepted (the OpenAPI says what the reader enforces)."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=200, json_schema_extra={"pattern": PRINTABLE})
    password: str = Field(max_length=1000, json_schema_extra={"pattern": PRINTABLE})


class SessionOut(BaseModel):
    token: str
    csrf_token: str
    expires_at: datetime


class SubjectOut(BaseModel):
    pseudonym: str
    kind: str
    site: str
    enrolled_on: date


@router.post("/sessions", status_code=201)
def start_session(
    request: Request, body: Credentials, clock: Annotated[datetime, Depends(now)]
) -> SessionOut:
    """Log in; the token is the bearer token (and the pages' cookie value)."""
    with _registry(request).session(None) as session:
        try:
            started = login(session, body.username, body.password, now=clock,
                            client=client_address(request))  # fmt: skip
        except LoginThrottled:
            raise
        except AccessDenied as error:
            raise Unauthenticated(str(error)) from None
    return SessionOut(
        token=started.token, csrf_token=started.csrf_token, expires_at=started.expires_at
    )


def _codes(session: Session) -> dict[str, str]:
    return {str(i): str(c) for i, c in session.execute(select(Site.id, Site.code))}


@router.get("/subjects")
def list_subjects(
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    people = subjects.list_subjects(caller.session, caller.actor, limit=limit, offset=offset)
    codes = _codes(caller.session)
    return {
        "limit": limit, "offset": offset,
        "subjects": [SubjectOut(pseudonym=s.pseudonym, kind=s.kind, site=codes[s.site_id],
                                enrolled_on=s.enrolled_on).model_dump(mode="json") for s in people],
    }  # fmt: skip


@router.get("/subjects/{pseudonym}")
def subject(caller: CallerDep, pseudonym: str) -> dict[str, Any]:
    found = subjects.get_subject(caller.session, caller.actor, pseudonym)
    grid = crf.event_grid(caller.session, caller.actor, pseudonym)
    out = SubjectOut(pseudonym=found.pseudonym, kind=found.kind,
                     site=_codes(caller.session)[found.site_id], enrolled_on=found.enrolled_on)  # fmt: skip
    return {**out.model_dump(mode="json"), "events": grid}


@router.get("/dashboard")
def dashboard(caller: CallerDep) -> dict[str, Any]:
    return {"sites": analytics.dashboard(caller.session, caller.actor)}


@router.get("/analyses")
def analyses(caller: CallerDep) -> dict[str, Any]:
    return {
        "analyses": analytics.analyse_all(caller.session, caller.actor),
        "safety": analytics.safety_table(caller.session, caller.actor),
    }


@router.get("/analyses/{analysis_id}")
def analysis(caller: CallerDep, analysis_id: str) -> dict[str, Any]:
    """One analysis of the study's design; an id the design does not have is a 404."""
    try:
        return analytics.analyse(caller.session, caller.actor, analysis_id)
    except InputError as error:
        if error.field != "analysis":
            raise
        raise AccessDenied(f"no analysis {analysis_id!r} ({error.message})") from None
