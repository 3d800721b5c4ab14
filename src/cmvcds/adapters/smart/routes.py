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
   page shows what was not read from the record.
5. Where the server offers OpenID Connect, the ``id_token`` is checked (``oauth.verify_id_token``:
   signature by the server's JWKS, ``iss``, ``aud``, ``exp``, the launch's ``nonce``) before
   anything is read, and the page says who signed in (``fhirUser``).
6. The tokens are kept sealed with the session cookie (``sealed``). ``POST /smart/reload`` reads
   the record again for the same patient, as the case's next version; an access token that has
   expired is first renewed
   with the refresh token (which the answer may replace).
7. A record that establishes no context (``cdshooks.services.record_context``: no pregnancy,
   congenital CMV infection or transplant status) is stored without one and never assessed in an
   assumed one: the page says so and asks which it is; ``POST /smart/context`` reads the record
   again in the context chosen (probe10 W6).
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Cookie, Form, Query, Request
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
from cmvcds.adapters.cdshooks.services import NO_CONTEXT, discovery, map_record
from cmvcds.adapters.smart import launches
from cmvcds.adapters.smart.oauth import (
    LaunchRefused,
    TokenResponse,
    authorize_url,
    discover,
    exchange_code,
    launch_scopes,
    new_secret,
    refresh,
    verify_id_token,
)
from cmvcds.adapters.smart.sealed import Tokens, open_sealed, seal
from cmvcds.adapters.web.i18n import N_, said
from cmvcds.adapters.web.i18n import gettext as _
from cmvcds.adapters.web.pages import CONTEXT_LABELS, case_page
from cmvcds.adapters.web.render import render
from cmvcds.errors import InputError

__all__ = ["SESSION_COOKIE", "STATE_COOKIE", "router"]

router = APIRouter(prefix="/smart", include_in_schema=False)

STATE_COOKIE = "cmvcds_smart_state"
SESSION_COOKIE = "cmvcds_smart"
#: The CDS service whose searches read the whole record (every code of the value sets).
RECORD_SERVICE = "cmv-therapy-monitor"
#: An access token this close to its expiry is renewed before use.
EXPIRY_MARGIN_S = 30
NO_LONGER_ALLOWED = N_("the FHIR server %(iss)s is no longer allowed")
NO_LIVE_LAUNCH = N_("no live app launch in this browser: open cmvcds from the EHR again")


def _refused(reason: str, status: int = 400) -> HTMLResponse:
    return HTMLResponse(
        render("smart_refused.html", title=_("App launch refused"), reason=reason), status
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
        raise LaunchRefused(_("SMART app launch is not configured here (CMVCDS_SMART_CLIENT_ID)"))
    if not iss:
        raise LaunchRefused(_("the launch names no FHIR server (iss)"))
    iss = iss.rstrip("/")
    if urlsplit(iss).scheme != "https" or not allowed_server(iss, settings.smart_fhir_servers):
        raise PermissionError(
            _(
                "the FHIR server %(iss)s is not on this installation's allow-list "
                "(CMVCDS_SMART_FHIR_SERVERS, https only)"
            )
            % {"iss": iss}
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
    nonce = new_secret() if config.openid else ""
    redirect_uri = _redirect_uri(request, settings)
    launches.begin(
        request.app.state.store.engine,
        state,
        launches.Launch(base, config.token_endpoint, verifier, redirect_uri, kind, nonce),
    )
    scope = launch_scopes(config, kind, settings.smart_scope)
    url = authorize_url(
        config,
        client_id=str(settings.smart_client_id),
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        aud=base,
        verifier=verifier,
        launch=launch,
        nonce=nonce or None,
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
        return _refused(_("an EHR launch needs its launch parameter (or use /smart/standalone)"))
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
                title=_("Open a patient from the EHR"),
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
    session = new_secret()
    try:
        if not allowed_server(launch.iss, settings.smart_fhir_servers):
            raise PermissionError(_(NO_LONGER_ALLOWED) % {"iss": launch.iss})
        with _client(settings) as client:
            token = exchange_code(
                client,
                launch.token_endpoint,
                code=code,
                redirect_uri=launch.redirect_uri,
                client_id=str(settings.smart_client_id),
                verifier=launch.code_verifier,
            )
            fhir_user = _signed_in(client, launch, token, settings)
        tokens = _kept(token, str(token.patient), None, fhir_user)
        key, notes = _open_case(
            launch.iss, tokens, settings, clinic, store, launches.state_id(state)
        )
    except PermissionError as refused:
        return _refused(str(refused), 403)
    except (LaunchRefused, PreconditionFailed) as refused:
        return _refused(str(refused), 502)
    row = launches.row_key(state)
    launches.finish(store.engine, state, session, key, notes, seal(tokens, session, row))
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


def _signed_in(
    client: httpx.Client, launch: launches.Launch, token: TokenResponse, settings: Settings
) -> str | None:
    """Who signed in at the EHR (``fhirUser`` of the checked id_token), when openid was asked."""
    if not launch.nonce:
        return None  # the server offers no OpenID Connect: nothing was asked, nothing is read
    if not token.id_token:
        raise LaunchRefused(_("the launch asked for openid but the token response has no id_token"))
    config = discover(client, launch.iss)
    return verify_id_token(
        client,
        config,
        token.id_token,
        client_id=str(settings.smart_client_id),
        nonce=launch.nonce,
    )


def _kept(
    token: TokenResponse, patient: str, old_refresh: str | None, fhir_user: str | None
) -> Tokens:
    """What is sealed for the session: a refresh answer without a new refresh token keeps the
    old one (RFC 6749 §6)."""
    expires_at = None if token.expires_in is None else time.time() + token.expires_in
    return Tokens(
        token.access_token, expires_at, token.refresh_token or old_refresh, patient, fhir_user
    )


def _open_case(
    iss: str,
    tokens: Tokens,
    settings: Settings,
    clinic: Clinic,
    store: CaseStore,
    launch_id: str,
    into: int | None = None,
    chosen: str | None = None,
) -> tuple[int, list[str]]:
    """Read the patient's record from ``iss``, store it as a case (or as the next version of
    case ``into``); returns its key and what was not read or assumed (shown on the page). The
    context is the one the record establishes, else ``chosen``, else none (the page asks)."""
    service = next(s for s in discovery(clinic) if s.id == RECORD_SERVICE)
    request = CdsRequest(
        hook="smart-launch",
        hookInstance=f"smart-{launch_id}",
        fhirServer=iss,
        fhirAuthorization=FhirAuthorization(access_token=tokens.access_token, subject="cmvcds"),
        context={"patientId": tokens.patient},
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
        mapped = map_record(clinic, data, request, chosen)
    except InputError as error:
        raise LaunchRefused(
            _("the record could not be read as a case: %(error)s")
            % {"error": error if error.field else said(error.message)}
        ) from None
    try:
        assessment = clinic.assess(mapped.case) if "context" in mapped.case else None
    except InputError:
        assessment = None  # the case page lists the problems
    if into is None:
        key = store.add(mapped.case, "smart", assessment)
    else:
        key = into
        store.save_version(key, mapped.case, assessment, "read again from the EHR (SMART)")
    signed_in = (
        []
        if tokens.fhir_user is None
        else [_("Signed in at the EHR as %(user)s") % {"user": tokens.fhir_user}]
    )
    notes = [
        *signed_in,
        *(
            _("Not this patient's, not used: %(line)s") % {"line": said(line)}
            for line in mapped.foreign
        ),
        *(
            _("Not read from the record: %(line)s") % {"line": said(line)}
            for line in [*mapped.ignored, *mapped.unmapped]
        ),
        *(
            _("Assumed while reading the record: %(line)s") % {"line": said(line)}
            for line in mapped.notes
        ),
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
        return _refused(_(NO_LIVE_LAUNCH), 401)
    key, notes = opened
    stored = store.get(key)
    if stored is not None and not stored.raw.get("context"):
        return _choose_context(notes)
    return case_page(key, clinic, store, notices=notes, smart_reload=True)


def _choose_context(notes: list[str], status: int = 200) -> HTMLResponse:
    """The page of a record that establishes no context: why, and the choice (never assumed)."""
    return HTMLResponse(
        render(
            "smart_context.html",
            title=_("Which patients' pathway applies?"),
            reason=_(NO_CONTEXT),
            contexts=CONTEXT_LABELS,
            notices=notes,
        ),
        status,
        headers={"Cache-Control": "no-store"},
    )


@router.post("/context", response_class=HTMLResponse)
def choose_context(
    settings: SettingsDep,
    clinic: ClinicDep,
    store: StoreDep,
    context: Annotated[str, Form(max_length=40)] = "",
    session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Response:
    """The context the user chose for a record that establishes none: the record is read again
    and assessed in it (the choice is said on the page)."""
    if context not in CONTEXT_LABELS:
        opened = launches.session_case(store.engine, session) if session else None
        if opened is None:
            return _refused(_(NO_LIVE_LAUNCH), 401)
        return _choose_context(opened[1], 422)
    return _read_again(settings, clinic, store, session, context)


@router.post("/reload", response_class=HTMLResponse)
def reload(
    settings: SettingsDep,
    clinic: ClinicDep,
    store: StoreDep,
    session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Response:
    """Read the record of the launch's patient again (renewing an expired access token with the
    refresh token first), kept as the next version of the case this session opened."""
    return _read_again(settings, clinic, store, session)


def _read_again(
    settings: Settings,
    clinic: Clinic,
    store: CaseStore,
    session: str | None,
    chosen: str | None = None,
) -> Response:
    """Read the launch's record again as the next version of its case (``chosen``: the context
    the user chose, for a record that establishes none); back to the assessment page."""
    live = launches.session_launch(store.engine, session) if session else None
    if live is None or session is None:
        return _refused(_(NO_LIVE_LAUNCH), 401)
    tokens = open_sealed(live.tokens_sealed, session, live.row) if live.tokens_sealed else None
    if tokens is None:
        return _refused(_("this launch kept no tokens: open cmvcds from the EHR again"), 401)
    try:
        if not allowed_server(live.iss, settings.smart_fhir_servers):
            raise PermissionError(_(NO_LONGER_ALLOWED) % {"iss": live.iss})
        if tokens.expires_at is not None and tokens.expires_at - EXPIRY_MARGIN_S <= time.time():
            if not tokens.refresh_token:
                raise LaunchRefused(
                    _("the access token has expired and the EHR gave no refresh token")
                )
            with _client(settings) as client:
                renewed = refresh(
                    client,
                    live.token_endpoint,
                    refresh_token=tokens.refresh_token,
                    client_id=str(settings.smart_client_id),
                )
            tokens = _kept(renewed, tokens.patient, tokens.refresh_token, tokens.fhir_user)
        _key, notes = _open_case(
            live.iss, tokens, settings, clinic, store, live.row[:16], live.case_key, chosen
        )
    except PermissionError as refused:
        return _refused(str(refused), 403)
    except (LaunchRefused, PreconditionFailed) as refused:
        return _refused(str(refused), 502)
    launches.reopen(store.engine, session, live.row, notes, seal(tokens, session, live.row))
    return RedirectResponse("/smart/assessment", status_code=303)
