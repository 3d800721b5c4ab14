"""``/smart``: the SMART on FHIR app launch that opens the cmvcds assessment of the patient in
context, from the EHR (``/smart/launch?iss=…&launch=…``) or standalone (``/smart/standalone``).

1. The ``iss`` must be on ``CMVCDS_SMART_FHIR_SERVERS`` and https: anything else is refused
   before a request leaves the machine (as the CDS services' ``fhirServer``).
2. Discovery (``oauth.discover``), then the browser goes to the authorization endpoint with a
   fresh ``state`` (also set as an HttpOnly cookie on ``/smart``) and a PKCE S256 challenge; the
   launch is recorded (``launches.begin``) with its verifier.
3. The callback needs the same ``state`` in the query and the browser's cookie, and a launch
   still pending (claimed once, within ten minutes); then the code is traded for a token.
4. The patient's record is read from the FHIR server with the CDS services' own guarded fetch
   (the therapy monitor's searches: allow-list, https for the token, no redirects, bounded
   answers, paging followed), mapped by the FHIR adapter and stored as a case (origin
   ``smart``); the browser gets a session cookie that opens that case only, and the assessment
   page shows what was not read from the record. The access token is used once and forgotten.
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Cookie, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cmvcds.adapters.api.deps import ClinicDep, SettingsDep, StoreDep
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.adapters.api.store import CaseStore
from cmvcds.adapters.cdshooks.models import CdsRequest, FhirAuthorization
from cmvcds.adapters.cdshooks.prefetch import (
    PreconditionFailed,
    allowed_server,
    gather,
    tls_verify,
)
from cmvcds.adapters.cdshooks.services import discovery, map_record
from cmvcds.adapters.smart import launches
from cmvcds.adapters.smart.oauth import (
    LaunchRefused,
    authorize_url,
    discover,
    exchange_code,
    new_secret,
)
from cmvcds.adapters.web.i18n import N_
from cmvcds.adapters.web.i18n import gettext as _
from cmvcds.adapters.web.pages import show_case
from cmvcds.adapters.web.render import render
from cmvcds.errors import InputError

__all__ = ["SESSION_COOKIE", "STATE_COOKIE", "router"]

router = APIRouter(prefix="/smart", include_in_schema=False)

STATE_COOKIE = "cmvcds_smart_state"
SESSION_COOKIE = "cmvcds_smart"
#: The CDS service whose searches read the whole record (every code of the value sets).
RECORD_SERVICE = "cmv-therapy-monitor"


def _refused(reason: str, status: int = 400) -> HTMLResponse:
    return HTMLResponse(
        render("smart_refused.html", title=N_("App launch refused"), reason=reason), status
    )


def _redirect_uri(request: Request, settings: Settings) -> str:
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    return f"{base}/smart/callback"


def _client(settings: Settings) -> httpx.Client:
    return httpx.Client(
        timeout=settings.fhir_timeout_s,
        follow_redirects=False,
        verify=tls_verify(settings.fhir_ca_file),
    )


def _checked_iss(iss: str | None, settings: Settings) -> str:
    if not settings.smart_client_id:
        raise LaunchRefused(
            _("SMART app launch is not configured here (%(settings)s).").rstrip(".")
            % {"settings": "CMVCDS_SMART_CLIENT_ID"}
        )
    if not iss:
        raise LaunchRefused(_("the launch names no FHIR server (iss)"))
    iss = iss.rstrip("/")
    if urlsplit(iss).scheme != "https" or not allowed_server(iss, settings.smart_fhir_servers):
        raise PermissionError(
            _(
                "the FHIR server %(iss)s is not on this installation's allow-list (%(setting)s, https only)"
            )
            % {"iss": iss, "setting": "CMVCDS_SMART_FHIR_SERVERS"}
        )
    return iss


def _start(request: Request, settings: Settings, iss: str | None, launch: str | None) -> Response:
    kind = "standalone" if launch is None else "ehr"
    try:
        base = _checked_iss(iss, settings)
        with _client(settings) as client:
            config = discover(client, base)
    except PermissionError as error:
        return _refused(str(error), 403)
    except LaunchRefused as error:
        return _refused(str(error))
    state, verifier = new_secret(), new_secret()
    redirect_uri = _redirect_uri(request, settings)
    launches.begin(
        request.app.state.store.engine,
        state,
        launches.Launch(base, config.token_endpoint, verifier, redirect_uri, kind),
    )
    scope = ("launch" if kind == "ehr" else "launch/patient") + " " + settings.smart_scope
    url = authorize_url(
        config,
        client_id=str(settings.smart_client_id),
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        aud=base,
        verifier=verifier,
        launch=launch,
    )
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=launches.LAUNCH_TTL_S,
        path="/smart",
        httponly=True,
        samesite="lax",  # sent on the authorization server's top-level redirect back
        secure=redirect_uri.startswith("https://"),
    )
    return response


@router.get("/launch", response_class=HTMLResponse)
def ehr_launch(
    request: Request,
    settings: SettingsDep,
    iss: Annotated[str | None, Query(max_length=2000)] = None,
    launch: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """EHR launch: the EHR opens this URL with its FHIR base URL and an opaque launch id."""
    if not launch:
        return _refused(
            _("an EHR launch needs its launch parameter (or use %(path)s)")
            % {"path": "/smart/standalone"}
        )
    return _start(request, settings, iss, launch)


@router.get("/standalone", response_class=HTMLResponse)
def standalone_launch(
    request: Request,
    settings: SettingsDep,
    iss: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """Standalone launch: the clinician picks a FHIR server; its EHR asks for the patient."""
    if iss is None:
        return HTMLResponse(
            render(
                "smart_refused.html",
                title=N_("Open a patient from the EHR"),
                servers=settings.smart_fhir_servers if settings.smart_client_id else [],
                reason=None,
            )
        )
    return _start(request, settings, iss, None)


@router.get("/callback", response_class=HTMLResponse)
def callback(
    request: Request,
    settings: SettingsDep,
    clinic: ClinicDep,
    store: StoreDep,
    state: Annotated[str | None, Query(max_length=200)] = None,
    code: Annotated[str | None, Query(max_length=4000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    browser_state: Annotated[str | None, Cookie(alias=STATE_COOKIE)] = None,
) -> Response:
    """The authorization server's redirect back: check the state, trade the code, read the
    record, open the case."""
    if not state or not browser_state or not secrets.compare_digest(state, browser_state):
        return _refused(_("the state does not match the launch this browser started"))
    launch = launches.claim(store.engine, state)
    if launch is None:
        return _refused(_("this launch is unknown, already used or expired: launch again"))
    if error:
        return _refused(
            _("the EHR's authorization server refused the launch (%(error)s)") % {"error": error},
            403,
        )
    if not code:
        return _refused(_("the authorization server sent no code"))
    try:
        if not allowed_server(launch.iss, settings.smart_fhir_servers):
            raise PermissionError(
                _("the FHIR server %(iss)s is no longer allowed") % {"iss": launch.iss}
            )
        with _client(settings) as client:
            token = exchange_code(
                client,
                launch.token_endpoint,
                code=code,
                redirect_uri=launch.redirect_uri,
                client_id=str(settings.smart_client_id),
                verifier=launch.code_verifier,
            )
        key, notes = _open_case(
            launch.iss, token.access_token, str(token.patient), settings, clinic, store, state
        )
    except PermissionError as refused:
        return _refused(str(refused), 403)
    except (LaunchRefused, PreconditionFailed) as refused:
        return _refused(str(refused), 502)
    session = new_secret()
    launches.finish(store.engine, state, session, key, notes)
    response = RedirectResponse("/smart/assessment", status_code=303)
    response.delete_cookie(STATE_COOKIE, path="/smart")
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=launches.SESSION_TTL_S,
        path="/",
        httponly=True,
        samesite="lax",
        secure=launch.redirect_uri.startswith("https://"),
    )
    return response


def _open_case(
    iss: str,
    access_token: str,
    patient: str,
    settings: Settings,
    clinic: Clinic,
    store: CaseStore,
    state: str,
) -> tuple[int, list[str]]:
    """Read the patient's record from ``iss``, store it as a case; returns its key and what was
    not read or assumed (shown on the page)."""
    service = next(s for s in discovery(clinic) if s.id == RECORD_SERVICE)
    request = CdsRequest(
        hook="smart-launch",
        hookInstance=f"smart-{launches.state_id(state)}",
        fhirServer=iss,
        fhirAuthorization=FhirAuthorization(access_token=access_token, subject="cmvcds"),
        context={"patientId": patient},
    )
    data = gather(
        request,
        service.prefetch,
        ("patient",),
        allowed_servers=settings.smart_fhir_servers,
        timeout_s=settings.fhir_timeout_s,
        verify=tls_verify(settings.fhir_ca_file),
    )
    try:
        mapped = map_record(clinic, data, request)
    except InputError as error:
        raise LaunchRefused(f"the record could not be read as a case: {error}") from None
    try:
        assessment = clinic.assess(mapped.case)
    except InputError:
        assessment = None  # the case page lists the problems
    key = store.add(mapped.case, "smart", assessment)
    notes = [
        *(f"Not read from the record: {line}" for line in [*mapped.ignored, *mapped.unmapped]),
        *(f"Assumed while reading the record: {line}" for line in mapped.notes),
    ]
    return key, notes


@router.get("/assessment", response_class=HTMLResponse)
def assessment(
    clinic: ClinicDep,
    store: StoreDep,
    session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Response:
    """The assessment of the case this browser's launch opened."""
    opened = launches.session_case(store.engine, session) if session else None
    if opened is None:
        return _refused(
            _("no live app launch in this browser: open cmvcds from the EHR again"), 401
        )
    key, notes = opened
    return show_case(key, clinic, store, notices=notes)
