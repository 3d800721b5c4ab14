"""``/cds-services``: discovery, the service calls and their feedback (CDS Hooks 2.0.1)."""

from __future__ import annotations

import functools
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Header, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.concurrency import run_in_threadpool

from cmvcds.adapters.api.deps import ClinicDep, SettingsDep, StoreDep
from cmvcds.adapters.api.group_commit import GroupCommit
from cmvcds.adapters.api.guarded_json import GuardedJsonRoute
from cmvcds.adapters.api.problems import problem_responses
from cmvcds.adapters.api.store import CardsShown, JtiClaim
from cmvcds.adapters.cdshooks.auth import ClaimJti, JwtVerifier, Unauthorized
from cmvcds.adapters.cdshooks.models import CdsRequest, CdsResponse, Feedback, Link
from cmvcds.adapters.cdshooks.prefetch import (
    PreconditionFailed,
    gather,
    tls_verify,
    unresolved_medications,
)
from cmvcds.adapters.cdshooks.services import Service, discovery
from cmvcds.adapters.fhir.paging import next_link
from cmvcds.adapters.web.i18n import gettext, preferred, reset_language, set_language
from cmvcds.registry.db import is_lock_timeout

__all__ = ["router"]

router = APIRouter(prefix="/cds-services", tags=["cds-hooks"], route_class=GuardedJsonRoute)


def _services(request: Request, clinic: Any) -> dict[str, Service]:
    cached: dict[str, Service] | None = getattr(request.app.state, "cds_services", None)
    if cached is None:
        cached = {s.id: s for s in discovery(clinic)}
        request.app.state.cds_services = cached
    return cached


def _cards_kept(request: Request) -> GroupCommit[CardsShown]:
    """The installation's writer of cards shown: concurrent calls share a commit."""
    kept: GroupCommit[CardsShown] | None = getattr(request.app.state, "cds_cards_kept", None)
    if kept is None:
        kept = request.app.state.cds_cards_kept = GroupCommit(request.app.state.store.add_cards)
    return kept


def _jti_claims(request: Request) -> GroupCommit[JtiClaim]:
    """The installation's writer of verified JWT ids: concurrent calls share a commit."""
    kept: GroupCommit[JtiClaim] | None = getattr(request.app.state, "cds_jti_claims", None)
    if kept is None:
        kept = request.app.state.cds_jti_claims = GroupCommit(request.app.state.store.claim_jtis)
    return kept


def _claim(claims: GroupCommit[JtiClaim]) -> ClaimJti:
    """The verifier's ``claim`` (awaited on the event loop, holding no worker thread): the id is
    committed by the loop's group commit, so that concurrent calls share one wait for the disk
    (one transaction per call capped a server near 200 verified calls/s and timed out on SQLite's
    write lock under load: issue 20, item 5). False: the id was recorded before (a replay)."""

    async def claim(issuer: str, jti: str, expires_at: float) -> bool:
        try:
            await claims.submit(JtiClaim(issuer, jti, expires_at))
        except IntegrityError:
            return False
        return True

    return claim


def _busy(what: str) -> HTTPException:
    """503: the database gave up waiting for another transaction's lock (``is_lock_timeout``);
    the call was not answered, and may be sent again."""
    return HTTPException(
        503, f"busy: {what} could not be recorded; try again", headers={"Retry-After": "1"}
    )


def _base_url(request: Request, public_url: str | None) -> str:
    """The installation's public URL, else the one the request came to (Starlette's
    ``base_url``, kept per scheme, server, root path and ``Host``: building it parsed a URL on
    every call, ~4 % of a call's framework time; issue 20, item 5)."""
    if public_url:
        return public_url.rstrip("/")
    scope = request.scope
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    root = scope.get("app_root_path", scope.get("root_path", ""))
    server = scope.get("server")
    return _request_base(scope["scheme"], tuple(server) if server else None, root, host)


@functools.lru_cache(maxsize=64)  # bounded: a client chooses its Host header
def _request_base(
    scheme: str, server: tuple[str, int | None] | None, root: str, host: bytes | None
) -> str:
    """Starlette's ``base_url`` of a request with these parts, without the trailing slash."""
    scope = {
        "type": "http",
        "scheme": scheme,
        "server": server,
        "path": root if root.endswith("/") else f"{root}/",
        "root_path": root,
        "query_string": b"",
        "headers": [] if host is None else [(b"host", host)],
    }
    return str(Request(scope).base_url).rstrip("/")


async def _authorise(request: Request, settings: Any, authorization: str | None) -> None:
    """The caller's JWT verified and its id claimed (auth.py), unless the installation runs
    ``--insecure-no-jwt``: 401 if it does not verify or was replayed, 503 if the database was
    too busy to record its id."""
    if settings.cds_insecure_no_jwt:
        return
    verifier: JwtVerifier | None = getattr(request.app.state, "cds_jwt", None)
    if verifier is None:
        verifier = request.app.state.cds_jwt = JwtVerifier(
            settings.cds_trusted_issuers,
            _claim(_jti_claims(request)),
            leeway_s=settings.cds_jwt_leeway_s,
            max_lifetime_s=settings.cds_jwt_max_lifetime_s,
            jwks_timeout_s=settings.fhir_timeout_s,
        )
    audience = f"{_base_url(request, settings.public_url)}{request.url.path}"
    try:
        await verifier.verify(authorization, audience)
    except Unauthorized as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from None
    except DBAPIError as error:
        if not is_lock_timeout(error):
            raise
        raise _busy("the token's id") from None


@router.get("", summary="CDS Hooks discovery")
def services(request: Request, clinic: ClinicDep) -> dict[str, list[dict[str, Any]]]:
    return {"services": [s.definition() for s in _services(request, clinic).values()]}


@router.post(
    "/{service_id}",
    response_model=CdsResponse,
    response_model_exclude_none=True,
    responses=problem_responses(401, 404, 412, 422),
    summary="Call a CDS service",
)
async def call(
    service_id: str,
    body: CdsRequest,
    request: Request,
) -> Response:
    """Run on the event loop (the work is CPU only); a JWKS or FHIR server fetch goes to a thread.
    The clinic and settings are read from the app's state, not injected: FastAPI's solving of
    two sub-dependencies cost ~5 % of a call; the ``Authorization`` header is read from the
    request, not declared as a parameter (its solving cost ~1 % of a call's instructions; the
    OpenAPI document states the token as the ``cdsHooksJwt`` security scheme): issue 20, item 5."""
    clinic, settings = request.app.state.clinic, request.app.state.settings
    service = _services(request, clinic).get(service_id)
    if service is None:
        raise HTTPException(404, f"no CDS service {service_id!r}")
    await _authorise(request, settings, request.headers.get("authorization"))
    if body.hook != service.hook:
        raise HTTPException(400, f"service {service_id} answers {service.hook}, not {body.hook}")
    given = body.prefetch or {}
    # a missing key, or a further page of a searchset, is read from the FHIR server: in a thread
    fetch = body.fhirServer is not None and (
        any(given.get(key) is None for key in service.prefetch)  # absent, or null (probe14 F8)
        or any(map(next_link, given.values()))
        or bool(unresolved_medications(body))  # probe14 S2: a draft order's Medication
    )
    try:
        if fetch:
            data = await run_in_threadpool(
                functools.partial(
                    gather,
                    allowed_servers=settings.cds_fhir_servers,
                    timeout_s=settings.fhir_timeout_s,
                    verify=tls_verify(settings.fhir_ca_file),
                ),
                body,
                service.prefetch,
                service.required,
            )
        else:
            data = gather(body, service.prefetch, service.required)
    except PreconditionFailed as error:
        raise HTTPException(412, str(error)) from None
    base = _base_url(request, settings.public_url)
    language = card_language(request.headers.get("accept-language"), settings.cds_language)
    token = set_language(language)
    try:
        cards = service.handler(body, data, clinic, base, service)
        if settings.smart_client_id:
            for card in cards:
                card.links = [*(card.links or []), smart_link(base)]
    finally:
        reset_language(token)
    # Cards are validated when built: no second validation by FastAPI. The answer is the plain
    # copy the store keeps, written by orjson (the same bytes as pydantic's model_dump_json,
    # one serialisation instead of two: test_the_answer_is_what_pydantic_writes).
    response = CdsResponse(cards=cards)
    shown = response.model_dump(mode="json", exclude_none=True)["cards"]
    try:  # every card shown is kept; cards that could not be kept are not shown
        if shown:
            await _cards_kept(request).submit(
                CardsShown(service_id, body.hookInstance, shown, clinic.knowledge.version)
            )
    except DBAPIError as error:
        if not is_lock_timeout(error):
            raise
        raise _busy("the cards") from None
    try:
        answer = orjson.dumps({"cards": shown})
    except orjson.JSONEncodeError:  # an integer beyond 64 bits (a draft order's, echoed)
        answer = response.model_dump_json(exclude_none=True).encode()
    return Response(
        answer,
        media_type="application/json",
        headers={"Content-Language": language, "Vary": "Accept-Language"},
    )


def card_language(accept_language: str | None, site: str) -> str:
    """The language of the cards: CDS Hooks 2.0 gives a service call no language field (its
    ``context`` and ``fhirAuthorization`` carry none), so the call's HTTP ``Accept-Language``
    (RFC 9110 §12.5.4) decides when it names one of ours, else the installation's
    ``cds_language`` (``CMVCDS_CDS_LANGUAGE``); the answer says it in ``Content-Language``."""
    return preferred(accept_language) or site


def smart_link(base: str) -> Link:
    """The card link that opens the cmvcds app for the patient in context (CDS Hooks 2.0: a
    ``smart`` link's url is the app's launch URL; the EHR adds ``iss`` and ``launch``)."""
    return Link(label=gettext("Open the cmvcds assessment"), url=f"{base}/smart/launch", type="smart")


@router.post(
    "/{service_id}/feedback",
    responses=problem_responses(401, 404, 422),
    summary="Feedback on the cards of a service (accepted / overridden)",
)
async def feedback(
    service_id: str,
    request: Request,
    clinic: ClinicDep,
    settings: SettingsDep,
    store: StoreDep,
    body: Annotated[Feedback, Body()],
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """On the event loop, like a call (its token's id is claimed there); the feedback is
    written in a worker thread."""
    if service_id not in _services(request, clinic):
        raise HTTPException(404, f"no CDS service {service_id!r}")
    await _authorise(request, settings, authorization)
    items = [item.model_dump(mode="json", exclude_none=True) for item in body.feedback]
    await run_in_threadpool(_keep_feedback, store, service_id, items)
    return {}


def _keep_feedback(store: Any, service_id: str, items: list[dict[str, Any]]) -> None:
    for item in items:  # each kept with the hook instance of the call that showed it
        store.add_feedback(service_id, item)
