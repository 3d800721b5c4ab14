"""Registry pages under ``/registry``: server-rendered, CSRF-protected, sessions that expire.

Mount with ``app.include_router(router)``. The database is ``app.state.registry`` (a
``cmvcds.registry.db.Registry``) when the app sets one, else ``app.state.settings.database_url``
(``CMVCDS_DATABASE_URL``), migrated on first use. The clock is the ``now`` dependency.

A subject that does not exist and one of another site give the same 404 page.

Reliability (issue 17): every route is a plain ``def`` run in the thread pool, so a request
waiting for the database never blocks the event loop; a form's body is read before any
transaction opens (a slow client holds no lock); the request's transaction is committed
before the answer is built into a response (``Depends(..., scope="function")``), so what is
acknowledged is committed; a wait for another's lock longer than ``db.LOCK_TIMEOUT_MS`` is a
503 "busy, try again" and a row another user created at the same moment is a 409 "conflict",
never a 500 (``RegistryRoute``; the form page redraws the typed values instead); bodies and forms are bounded (``FORM_LIMITS``).
"""

from __future__ import annotations

import io
import secrets
import threading
import zipfile
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from cmvcds.adapters.web.i18n import N_, current_language, ngettext
from cmvcds.adapters.web.i18n import gettext as _
from cmvcds.adapters.web.registry.date_hints import date_hints
from cmvcds.adapters.web.render import TEMPLATE_DIR, install_i18n
from cmvcds.adapters.web.texts import shown_error
from cmvcds.errors import AccessDenied, InputError, RegistryError
from cmvcds.registry import analytics, audit_view, exports, migrate
from cmvcds.registry.access import Actor, Permission, require
from cmvcds.registry.db import Registry, is_conflict, is_lock_timeout
from cmvcds.registry.dictionary import choices, shown
from cmvcds.registry.models import DataQuery, QueryStatus, Role, WebSession
from cmvcds.registry.numbers import DECIMAL, as_typed
from cmvcds.registry.security import (
    SESSION_LIFETIME,
    LoginThrottled,
    check_csrf,
    login,
    logout,
    resolve_session,
)
from cmvcds.registry.services import crf, study, subjects

__all__ = ["COOKIE", "FORM_LIMITS", "MAX_BODY", "RegistryRoute", "client_address", "now", "router"]

MAX_BODY = 256 * 1024  # bytes: the largest CRF form with its free text is a few kB
FORM_LIMITS = {"max_fields": 1000, "max_files": 0, "max_part_size": 64 * 1024}
BUSY = N_("The registry is busy with another user's change; please submit again in a moment.")
CONFLICT = N_(
    "Another user saved this record at the same moment, so your change was not saved. "
    "Reload the page, check what is recorded now and submit again."
)
FORM_CONFLICT = N_(
    "Another user saved this form at the same moment, so your values were not saved. They are "
    "kept below: check them against what is recorded now (reload in another tab) and save again; "
    "a changed recorded value needs a reason."
)


class RegistryRoute(APIRoute):
    """A registry page: a database lock not obtained in time answers 503 with Retry-After."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except DBAPIError as error:
                if is_conflict(error):
                    return page("registry_error.html", 409, title=_("Conflict"), viewer=None,
                                message=_(CONFLICT))  # fmt: skip
                if not is_lock_timeout(error):
                    raise
                return self.busy()

        return run

    def busy(self) -> Response:
        response = page("registry_error.html", 503, title=_("Busy"), viewer=None, message=_(BUSY))
        response.headers["Retry-After"] = "1"
        return response


router = APIRouter(prefix="/registry", include_in_schema=False, route_class=RegistryRoute)
COOKIE = "cmvcds_registry"
LOGIN_CSRF = "cmvcds_login_csrf"
HERE = Path(__file__).parent / "templates"
_ENV = Environment(
    loader=ChoiceLoader([FileSystemLoader(HERE), FileSystemLoader(TEMPLATE_DIR)]),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
install_i18n(_ENV)  # base.html's switch and gettext
_ENV.filters["label"] = lambda code: str(code).replace("_", " ")


def now() -> datetime:
    """The clock of the pages (a dependency, so that tests can move time)."""
    return datetime.now(UTC)


_FIRST_USE = threading.Lock()


def client_address(request: Request) -> str:
    """The address login throttling counts by (the TCP peer; behind a proxy, the proxy's)."""
    return request.client.host if request.client else ""


def _registry(request: Request) -> Registry:
    """``app.state.registry``, else the app's database (brought to the newest schema once)."""
    registry = getattr(request.app.state, "registry", None)
    if registry is None:
        with (
            _FIRST_USE
        ):  # concurrent first requests: one opens and migrates (Alembic is not thread-safe)
            registry = getattr(request.app.state, "registry", None)
            if registry is None:
                settings = getattr(request.app.state, "settings", None)
                registry = Registry(getattr(settings, "database_url", None))
                migrate.upgrade(registry.engine)
                request.app.state.registry = registry
    return registry


_P = Permission
# The registry menu: each entry with the permissions (any one suffices) its page's service
# requires, so a role is offered exactly the pages ``access.GRANTS`` lets it use (issue 15).
MENU: tuple[tuple[str, str, frozenset[Permission]], ...] = (
    ("/registry/", N_("Dashboard"), frozenset(_P) - {_P.REVIEW_STATEMENTS}),  # a reviewer's is Review
    ("/registry/subjects", N_("Subjects"), frozenset({_P.READ_DATA})),
    ("/registry/analyses", N_("Analyses"), frozenset({_P.ANALYSE})),
    ("/registry/exports", N_("Exports"), frozenset({_P.EXPORT_SITE, _P.EXPORT_CENTRAL})),
    ("/registry/audit", N_("Audit trail"), frozenset({_P.READ_AUDIT})),
    ("/registry/review", N_("Statement review"), frozenset({_P.REVIEW_STATEMENTS})),
    ("/registry/admin", N_("Users and sites"), frozenset({_P.MANAGE_STUDY})),
)
#: Words the registry's templates translate from a value: form statuses, query statuses, kinds of
#: subject, roles (as the ``label`` filter shows them).
REGISTRY_WORDS = (
    N_("empty"), N_("incomplete"), N_("complete"), N_("query"), N_("open"), N_("answered"),
    N_("closed"), N_("mother"), N_("newborn"), N_("site data entry"), N_("site investigator"),
    N_("monitor"), N_("data manager"), N_("statistician"), N_("administrator"), N_("reviewer"),
    N_("REDCap flat CSV + data dictionary"), N_("CDISC ODM 1.3.2 XML"), N_("FHIR R4 NDJSON"),
    N_("site (identified, exact dates)"), N_("central (pseudonymised)"),
    N_("Registry"), N_("Registry login"), N_("Enrol a subject"), N_("Busy"), N_("Not available"),
)  # fmt: skip
EXPORT_NEEDS = {"site": _P.EXPORT_SITE, "central": _P.EXPORT_CENTRAL}


def may_open(actor: Actor, path: str) -> bool:
    """Whether ``actor``'s role holds one of the permissions the menu page ``path`` needs."""
    needs = next(needs for href, _label, needs in MENU if href == path)
    return any(actor.can(permission) for permission in needs)


class Viewer:
    """The logged-in user of a request: actor, web session (CSRF token), and a DB session."""

    def __init__(self, actor: Actor, web: WebSession, session: Session) -> None:
        self.actor, self.web, self.session = actor, web, session

    @property
    def csrf(self) -> str:
        return self.web.csrf_token

    @property
    def menu(self) -> list[tuple[str, str]]:
        """The menu entries this user's role may open."""
        return [(href, label) for href, label, _ in MENU if may_open(self.actor, href)]


def _viewer(request: Request, clock: Annotated[datetime, Depends(now)]) -> Iterator[Viewer]:
    token = request.cookies.get(COOKIE)
    if not token:
        raise _to_login()
    registry = _registry(request)
    with registry.session(None) as probe:
        try:
            user, web = resolve_session(probe, token, now=clock)
        except AccessDenied:
            raise _to_login() from None
        actor = study.actor_for(user)
    with registry.session(actor) as session:
        web = session.merge(web)
        yield Viewer(actor, web, session)


def _to_login() -> HTTPException:
    return HTTPException(
        status_code=303, detail="please log in", headers={"Location": "/registry/login"}
    )


# scope="function": the transaction commits when the route returns, before the answer is sent.
ViewerDep = Annotated[Viewer, Depends(_viewer, scope="function")]


async def _form(request: Request) -> FormData:
    """The submitted form, read whole (within ``FORM_LIMITS``) before any transaction opens."""
    return await request.form(**FORM_LIMITS)


FormDep = Annotated[FormData, Depends(_form)]


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_ENV.get_template(template).render(**context), status_code=status)


def _denied(viewer: Viewer | None, message: str, status: int = 404) -> HTMLResponse:
    return page(
        "registry_error.html", status, title="Not available", viewer=viewer, message=message
    )


def refused(viewer: Viewer, error: AccessDenied) -> HTMLResponse:
    """403 when the role may not act; 404 when the record is not visible (absent or elsewhere)."""
    return _denied(viewer, str(error), 403 if "may not" in str(error) else 404)


def forbidden(
    viewer: Viewer, csrf: str, permission: Permission | None = None
) -> HTMLResponse | None:
    """The 403 page when the form's CSRF token is wrong or the role lacks ``permission``."""
    try:
        check_csrf(viewer.web, csrf)
        if permission is not None:
            require(viewer.actor, permission)
    except AccessDenied as error:
        return _denied(viewer, str(error), 403)
    return None


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(
        "registry_login.html", title="Registry login", csrf=token, error=None, viewer=None
    )
    response.set_cookie(
        LOGIN_CSRF, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


@router.post("/login", response_model=None)
def login_submit(
    request: Request,
    clock: Annotated[datetime, Depends(now)],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF)
    if not cookie or not secrets.compare_digest(cookie, csrf):
        return page("registry_login.html", 403, title="Registry login", csrf=cookie or "", viewer=None,
                    error="The form expired; please try again.")  # fmt: skip
    try:
        with _registry(request).session(None) as session:
            started = login(session, username, password, now=clock, client=client_address(request))
    except AccessDenied as error:
        throttled = error if isinstance(error, LoginThrottled) else None
        status = 401 if throttled is None else 429
        refused = page("registry_login.html", status, title="Registry login", csrf=cookie,
                       viewer=None, error=str(error))  # fmt: skip
        if throttled is not None:
            refused.headers["Retry-After"] = str(throttled.retry_after)
        return refused
    response = RedirectResponse("/registry/", status_code=303)
    response.set_cookie(
        COOKIE, started.token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
        max_age=int(SESSION_LIFETIME.total_seconds()),
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF)
    return response


@router.post("/logout", response_model=None)
def logout_submit(
    request: Request, viewer: ViewerDep, csrf: Annotated[str, Form()] = ""
) -> Response:
    if (refusal := forbidden(viewer, csrf)) is not None:
        return refusal
    logout(viewer.session, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/registry/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def dashboard(viewer: ViewerDep) -> Response:
    if viewer.actor.role is Role.REVIEWER:  # reviews answer statements; sees no study data
        return RedirectResponse("/registry/review", status_code=303)
    rows = analytics.dashboard(viewer.session, viewer.actor)
    queries = []
    if viewer.actor.can(Permission.READ_DATA):
        query = (
            select(DataQuery)
            .where(DataQuery.status != QueryStatus.CLOSED)
            .order_by(DataQuery.opened_at)
            .limit(50)
        )
        if viewer.actor.role.site_scoped:
            query = query.where(DataQuery.site_id == viewer.actor.site_id)
        queries = list(viewer.session.scalars(query))
    # the key fields' labels of the study dictionary (translated with the forms' own labels)
    labels = {f.field_name: f.field_label for f in crf.current_crf(viewer.session).fields}
    return page(
        "registry_dashboard.html",
        title="Registry",
        viewer=viewer,
        rows=rows,
        queries=queries,
        field_labels=labels,
    )


@router.get("/subjects", response_class=HTMLResponse)
def subject_list(viewer: ViewerDep) -> HTMLResponse:
    try:
        people = subjects.list_subjects(viewer.session, viewer.actor)
    except AccessDenied as error:
        return _denied(viewer, str(error), 403)
    return page("registry_subjects.html", title="Subjects", viewer=viewer, subjects=people)


@router.get("/subjects/{pseudonym}", response_class=HTMLResponse)
def event_grid(viewer: ViewerDep, pseudonym: str, enrolled: int = 0) -> HTMLResponse:
    try:
        grid = crf.event_grid(viewer.session, viewer.actor, pseudonym)
        instances = crf.form_instances(viewer.session, viewer.actor, pseudonym)
        kind = subjects.get_subject(viewer.session, viewer.actor, pseudonym).kind
    except AccessDenied as error:
        return _denied(viewer, str(error))
    return page("registry_grid.html", title=pseudonym, viewer=viewer, pseudonym=pseudonym, grid=grid,
                labels={e.name: e.label for e in crf.current_crf(viewer.session).design.events},
                kind=kind, enrolled=bool(enrolled), instances=instances,
                can_enter=viewer.actor.can(Permission.ENTER_DATA))  # fmt: skip


def _form_context(
    viewer: Viewer, pseudonym: str, event: str, instrument: str, instance: int,
    kept: tuple[crf.Opened, dict[str, str]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The form page's context. ``kept``: the version and values the user's page was opened
    with, carried again when the page is re-shown after a refusal (so that a save made
    meanwhile by someone else still makes the next save stale); else read now, the version
    before the values (``crf.opened``)."""
    forms = crf.current_crf(viewer.session)
    opened = crf.opened(viewer.session, viewer.actor, pseudonym, event, instrument, instance=instance)
    values = crf.read_form(
        viewer.session, viewer.actor, pseudonym, event, instrument, instance=instance
    )
    if kept is not None:
        opened, shown_values = kept
    else:
        shown_values = values
    rows = [
        {
            "row": row,
            "choices": choices(row),
            "value": as_typed(
                row.validation or row.field_type,
                values.get(row.field_name, ""),
                DECIMAL.get(current_language(), "."),
            ),
            "shown": shown(row, values),
        }
        for row in forms.forms.get(instrument, ())
        if row.field_name != forms.record_id_field and row.field_type != "descriptive"
    ]
    open_queries = list(
        viewer.session.scalars(
            select(DataQuery).where(
                DataQuery.instrument == instrument, DataQuery.event == event, DataQuery.instance == instance,
                DataQuery.status != QueryStatus.CLOSED,
                DataQuery.subject_id == subjects.get_subject(viewer.session, viewer.actor, pseudonym).id,
            )
        )
    )  # fmt: skip
    recorded = crf.form_instances(viewer.session, viewer.actor, pseudonym).get((event, instrument), [])
    return {
        "title": f"{pseudonym} · {event} · {instrument}", "viewer": viewer, "pseudonym": pseudonym,
        "event": event, "instrument": instrument, "instance": instance, "rows": rows, "queries": open_queries,
        "can_enter": viewer.actor.can(Permission.ENTER_DATA), "errors": {}, "message": None,
        "hidden": crf.hidden_fields(viewer.session, viewer.actor),
        "date_hints": date_hints(forms, instrument),
        "event_label": next((e.label for e in forms.design.events if e.name == event), event),
        "repeating": instrument in forms.design.repeating,
        "next_instance": max([n for n, _status in recorded] + [instance]) + 1,
        "opened": opened, "shown_values": shown_values, "conflicts": {},
    }  # fmt: skip


STALE = N_(
    "This form was changed by %(who)s at %(when)s since you opened it, so nothing was saved. "
    "Your values are kept below, each next to what is recorded now: check them and save again "
    "(a changed recorded value needs a reason)."
)
STALE_FIELD = N_("Recorded now: %(recorded)s — changed by %(who)s at %(when)s; your page showed %(shown)s.")


@router.get("/subjects/{pseudonym}/{event}/{instrument}", response_class=HTMLResponse)
def form_page(
    viewer: ViewerDep, pseudonym: str, event: str, instrument: str, instance: int = 1,
    saved: int = 0, queries: int = 0,
) -> HTMLResponse:  # fmt: skip
    """The form; ``saved=1`` (the redirect after a save: Post/Redirect/Get) says it was saved
    and how many queries the save opened."""
    try:
        context = _form_context(viewer, pseudonym, event, instrument, instance)
    except AccessDenied as error:
        return _denied(viewer, str(error))
    if saved:
        context["message"] = _("Saved.") + (
            " " + ngettext("%(num)d query opened for the monitor.", "%(num)d queries opened for the monitor.",
                           queries) % {"num": queries} if queries > 0 else ""
        )  # fmt: skip
        context["saved"] = True
    response = page("registry_form.html", **context)
    response.headers["Cache-Control"] = "no-store"
    return response


def _opened_of(form: FormData) -> tuple[crf.Opened, dict[str, str]]:
    """The version and the values the submitting page was opened with (``version``, ``seen``,
    ``o_<field>``). A page without a version (drawn before it carried one, or forged) is given
    version -1, which no form has: its save is refused as stale unless it changes nothing."""
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        version = -1
    try:
        seen = int(str(form.get("seen", "")))
    except ValueError:
        seen = 0
    shown_values = {k[2:]: str(v) for k, v in form.multi_items() if k.startswith("o_")}
    return crf.Opened(version=version, seen=seen), shown_values


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "?"


def _stale_page(
    viewer: Viewer, pseudonym: str, event: str, instrument: str, instance: int,
    stale: crf.StaleForm, values: dict[str, str], shown_values: dict[str, str],
) -> HTMLResponse:  # fmt: skip
    """The form again (409), carrying the version recorded now: each value another user changed
    is shown with both values; a field this user left as it was takes the recorded value."""
    context = _form_context(viewer, pseudonym, event, instrument, instance)
    conflicts = {c.field: c for c in stale.changes}
    for row in context["rows"]:
        name = row["row"].field_name
        mine = values.get(name)
        if mine is None:
            continue
        untouched = name in shown_values and mine == shown_values[name]
        if not (name in conflicts and untouched):
            row["value"] = mine  # the user's own value (the recorded one is named beside it)
    context["conflicts"] = {
        name: _(STALE_FIELD) % {"recorded": c.recorded or "—", "who": c.by, "when": _when(c.at),
                                "shown": c.shown or "—"}
        for name, c in conflicts.items()
    }  # fmt: skip
    who = ", ".join(sorted({c.by for c in stale.changes})) or stale.saved_by
    moments = [c.at for c in stale.changes if c.at] or ([stale.saved_at] if stale.saved_at else [])
    context["message"] = _(STALE) % {"who": who, "when": _when(max(moments) if moments else None)}
    return page("registry_form.html", 409, **context)


@router.post("/subjects/{pseudonym}/{event}/{instrument}", response_model=None)
def form_submit(
    form: FormDep,  # first: the body is read before the viewer's transaction opens
    viewer: ViewerDep,
    clock: Annotated[datetime, Depends(now)],
    pseudonym: str,
    event: str,
    instrument: str,
    instance: int = 1,
) -> Response:
    try:
        check_csrf(viewer.web, str(form.get("csrf", "")))
    except AccessDenied as error:
        return _denied(viewer, str(error), 403)
    values = {k[2:]: str(v) for k, v in form.multi_items() if k.startswith("f_")}
    boxes: dict[str, list[str]] = {}  # checkboxes: c_<field> repeated, gathered in one pass
    for k, v in form.multi_items():
        if k.startswith("c_"):
            boxes.setdefault(k[2:], []).append(str(v))
    # the hidden empty c_<field> (so that unticking all boxes clears the field) is no code
    values.update({key: ",".join(code for code in ticked if code) for key, ticked in boxes.items()})
    reason = str(form.get("reason", "")) or None
    opened, shown_values = _opened_of(form)
    try:
        with viewer.session.begin_nested():
            result = crf.save_form(viewer.session, viewer.actor, pseudonym, event, instrument, values,
                                   instance=instance, reason=reason, today=clock.date(),
                                   opened_with=opened, shown=shown_values,
                                   confirm_free_text=form.get("confirm_free_text") == "1",
                                   decimal=DECIMAL.get(current_language(), "."))  # fmt: skip
    except AccessDenied as error:
        return _denied(viewer, str(error))
    except crf.StaleForm as stale:
        return _stale_page(viewer, pseudonym, event, instrument, instance, stale, values,
                           shown_values)  # fmt: skip
    except (InputError, RegistryError, IntegrityError) as error:
        if isinstance(error, IntegrityError) and not is_conflict(error):
            raise
        context = _form_context(viewer, pseudonym, event, instrument, instance,
                                kept=(opened, shown_values))  # fmt: skip
        for row in context["rows"]:
            if row["row"].field_name in values:
                row["value"] = values[row["row"].field_name]
        if isinstance(error, IntegrityError):  # saved by another user since this one read it
            context["message"] = _(FORM_CONFLICT)
            return page("registry_form.html", 409, **context)
        context["message"] = shown_error(str(error))
        if isinstance(error, crf.IdentifierInFreeText):
            context["confirm_free_text"] = error.confirmable
        return page("registry_form.html", 422, **context)
    viewer.session.commit()  # committed (and the audit head released) before the redirect
    where = f"/registry/subjects/{quote(pseudonym)}/{quote(event)}/{quote(instrument)}"
    return RedirectResponse(
        f"{where}?{urlencode({'instance': instance, 'saved': 1, 'queries': len(result.queries)})}",
        status_code=303,
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_viewer(
    viewer: ViewerDep, subject: str = "", user: str = "", form: str = "", date_from: str = "",
    date_to: str = "", before: int | None = None, limit: int = audit_view.PAGE_SIZE,
) -> HTMLResponse:  # fmt: skip
    """The trail, newest first, filtered and paginated; identity hidden from roles without it."""
    try:
        wanted = audit_view.AuditFilter(
            subject=subject, user=user, form=form, date_from=_day(date_from),
            date_to=_day(date_to), before=before, limit=limit,
        )  # fmt: skip
        result = audit_view.audit_page(viewer.session, viewer.actor, wanted)
    except AccessDenied as error:
        return _denied(viewer, str(error), 403)
    except InputError as error:
        return _denied(viewer, str(error), 422)
    return page("registry_audit.html", title="Audit trail", viewer=viewer, result=result,
                wanted=wanted)  # fmt: skip


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text.strip() else None
    except ValueError:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", field="date") from None


@router.get("/exports", response_class=HTMLResponse)
def export_page(viewer: ViewerDep) -> HTMLResponse:
    if not may_open(viewer.actor, "/registry/exports"):
        return _denied(viewer, f"a {viewer.actor.role.value} may not export", 403)
    return page("registry_exports.html", title="Exports", viewer=viewer, formats=exports.FORMATS,
                profiles=_profiles(viewer.actor), error=None)  # fmt: skip


def _profiles(actor: Actor) -> list[str]:
    """The export profiles this role may use (site: identified; central: pseudonymised)."""
    return [p for p in exports.PROFILES if actor.can(EXPORT_NEEDS[p])]


@router.post("/exports", response_model=None)
def export_submit(
    viewer: ViewerDep,
    clock: Annotated[datetime, Depends(now)],
    fmt: Annotated[str, Form()],
    profile: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    dates: Annotated[str, Form()] = "coarsen",
    free_text: Annotated[str, Form()] = "screen",
) -> Response:
    try:
        check_csrf(viewer.web, csrf)
        result = exports.export(viewer.session, viewer.actor, fmt=fmt, profile=profile, now=clock,
                                dates=dates, free_text=free_text)  # fmt: skip
    except (AccessDenied, InputError) as error:
        return page("registry_exports.html", 403, title="Exports", viewer=viewer, formats=exports.FORMATS,
                    profiles=_profiles(viewer.actor), error=str(error))  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in result.files.items():
            archive.writestr(name, text)
    filename = f"registry-{fmt}-{profile}-{clock:%Y%m%d}.zip"
    return Response(buffer.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})  # fmt: skip


@router.get("/analyses", response_class=HTMLResponse)
def analyses_page(viewer: ViewerDep) -> HTMLResponse:
    try:
        results = analytics.analyse_all(viewer.session, viewer.actor)
        safety = analytics.safety_table(viewer.session, viewer.actor)
    except AccessDenied as error:
        return _denied(viewer, str(error), 403)
    return page(
        "registry_analyses.html", title="Analyses", viewer=viewer, results=results, safety=safety
    )
