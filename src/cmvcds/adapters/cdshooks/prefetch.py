"""The data a service needs: from the request's prefetch, else fetched from ``fhirServer``
with the bearer token, else ``PreconditionFailed`` (HTTP 412), as CDS Hooks 2.0.1 requires.

A fetch is made only to a FHIR server on the installation's allow-list (``cds_fhir_servers``):
anything else is refused before a request leaves the machine, so a caller cannot point the
service (and the access token) at an internal address. The token is sent over ``https`` only.
Context values are percent-encoded into the URL; redirects are not followed; an answer that is
not a FHIR JSON document (or larger than a case document may be) is a 412, never a 500. The
service's own searches ask for pages of ``PAGE_SIZE`` newest first (``_count``, ``_sort``) and
follow ``link[next]`` within the bound of ``paging.MAX_PAGES``.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from cmvcds.adapters.cdshooks.models import CdsRequest
from cmvcds.adapters.fhir.paging import follow_pages, next_link
from cmvcds.domain.documents import Limits, parse_document
from cmvcds.errors import InputError

__all__ = [
    "ERRORED",
    "FETCHED_MEDICATIONS",
    "PAGING_NOTES",
    "PreconditionFailed",
    "allowed_server",
    "gather",
    "paged_query",
    "render_template",
    "tls_verify",
    "unresolved_medications",
]

#: The key of ``gather``'s answer that lists the searchset pages it could not read (a card says so).
PAGING_NOTES = "_cmvcds_paging_notes"
#: The key of ``gather``'s answer holding the Medications draft orders reference and the request
#: did not send, read from ``fhirServer`` (probe14 S2), by reference (``Medication/<id>``).
FETCHED_MEDICATIONS = "_cmvcds_medications"
#: A FHIR logical id (R4 §2.26.0.3: up to 64 of A–Z a–z 0–9 - .).
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
#: The key of ``gather``'s answer that lists the prefetch keys for which the EHR (or the FHIR
#: server) returned an error: an OperationOutcome in place of the data, or a searchset whose only
#: entries are OperationOutcomes (search.mode outcome). Never "none recorded" (fixr23a).
ERRORED = "_cmvcds_errored"

#: The largest FHIR answer read (a page of a searchset); the reader's other bounds apply too.
MAX_FHIR_BYTES = 10_000_000

_TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")

#: Entries per page asked of the FHIR server in the service's own searches (``_count``, FHIR R4
#: §3.1.1.5.6; a server may return fewer and page with ``link[next]``).
PAGE_SIZE = 100
#: The date search parameter of each resource type searched (FHIR R4 search parameters), used
#: as ``_sort=-<param>`` so that the newest results come first: if the page bound stops the
#: reading, what is left unread is the oldest.
SORT_BY_DATE = {
    "Observation": "date",
    "DiagnosticReport": "date",
    "Condition": "recorded-date",
    "MedicationRequest": "authoredon",
    "MedicationAdministration": "effective-time",
    "MedicationStatement": "effective",
}


def tls_verify(ca_file: Path | None) -> ssl.SSLContext | bool:
    """How https answers are verified: against ``ca_file`` (``CMVCDS_FHIR_CA_FILE``, a
    hospital's own CA) when given, else the system's certificate authorities."""
    return True if ca_file is None else ssl.create_default_context(cafile=str(ca_file))


class PreconditionFailed(Exception):
    """Required data are neither prefetched nor obtainable from the FHIR server."""


def render_template(template: str, context: Mapping[str, Any]) -> str:
    """Replace ``{{context.x}}`` (root-level primitive context fields) in a prefetch template."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        field = name.removeprefix("context.")
        if name == "userPractitionerId":
            field = "userId"
        found = context.get(field)
        if found is None or isinstance(found, dict | list):
            raise PreconditionFailed(
                f"prefetch token {{{{{name}}}}} has no value in the request context"
            )
        text = str(found)
        text = text.split("/", 1)[1] if name == "userPractitionerId" and "/" in text else text
        return quote(text, safe="")

    return _TOKEN.sub(value, template)


def paged_query(query: str) -> str:
    """A search (``Type?…``) with ``_count`` and a newest-first ``_sort`` added where FHIR
    defines them for the type and the query does not set them already; a read is unchanged."""
    kind, mark, params = query.partition("?")
    if not mark:
        return query
    names = {part.split("=", 1)[0] for part in params.split("&")}
    extra = []
    if "_count" not in names:
        extra.append(f"_count={PAGE_SIZE}")
    if "_sort" not in names and kind in SORT_BY_DATE:
        extra.append(f"_sort=-{SORT_BY_DATE[kind]}")
    return "&".join([query, *extra])


def _usable(value: Any, key: str, template: str) -> Any:
    """``None`` for an absent result: null, or an OperationOutcome in place of the data. A value
    that is not a FHIR resource (a string, a list, an object without ``resourceType``) is a 412
    naming the key: read as "no data", it gave an empty answer the EHR could not tell from
    "nothing to say" (probe8 R2). For a search template, a single resource of the searched type
    is read as its searchset; a resource of another type is a 412."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        kind = "an object without resourceType" if isinstance(value, dict) else _json_kind(value)
        raise PreconditionFailed(
            f"prefetch {key} is not a FHIR resource ({kind}): send a Bundle or resource, or null"
        )
    kind = value["resourceType"]
    if kind == "OperationOutcome":
        return None
    searched, search, _ = template.partition("?")
    if search and kind != "Bundle":
        if kind != searched:
            raise PreconditionFailed(
                f"prefetch {key} is a {kind}; its template is a search of {searched}: send the "
                "searchset Bundle"
            )
        # one resource of the searched type in place of its searchset: read as a Bundle of it
        # (it was read as no data at all: review9b #8)
        return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": value}]}
    return value


def _json_kind(value: Any) -> str:
    return {str: "a string", list: "a list", bool: "true or false"}.get(type(value), "a number")


def allowed_server(server: str, allowed: Sequence[str]) -> bool:
    """``server`` is one of ``allowed`` or lies under one (same scheme, host, port; path prefix)."""
    given = urlsplit(server.rstrip("/"))
    if given.scheme not in ("http", "https") or given.username or given.password:
        return False
    for entry in allowed:
        base = urlsplit(entry.rstrip("/"))
        if (given.scheme, given.netloc.lower()) == (base.scheme, base.netloc.lower()) and (
            given.path == base.path or given.path.startswith(base.path + "/")
        ):
            return True
    return False


def _check_server(request: CdsRequest, allowed: Sequence[str]) -> str:
    server = str(request.fhirServer).rstrip("/")
    if not allowed_server(server, allowed):
        raise PreconditionFailed(
            f"fhirServer {server} is not on this installation's allow-list "
            "(CMVCDS_CDS_FHIR_SERVERS); send the data as prefetch"
        )
    if request.fhirAuthorization is not None and urlsplit(server).scheme != "https":
        raise PreconditionFailed(f"an access token is sent over https only, not to {server}")
    return server


def _unusable_server(request: CdsRequest, allowed: Sequence[str]) -> str | None:
    """Why ``fhirServer`` may not be read (not on the allow-list, a token over http), or None."""
    try:
        _check_server(request, allowed)
    except PreconditionFailed as refused:
        return str(refused)
    return None


def _fetch(client: httpx.Client, key: str, url: str) -> Any:
    try:
        with client.stream("GET", url) as response:
            if response.status_code == 404:
                return None
            if not 200 <= response.status_code < 300:
                raise PreconditionFailed(
                    f"{key}: the FHIR server answered {response.status_code}"
                    + (" (redirects are not followed)" if response.is_redirect else "")
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_FHIR_BYTES:
                    raise PreconditionFailed(
                        f"{key}: the FHIR server's answer is larger than {MAX_FHIR_BYTES:,} bytes"
                    )
    except httpx.HTTPError as error:
        raise PreconditionFailed(
            f"{key}: the FHIR server could not be reached ({type(error).__name__})"
        ) from None
    try:
        return parse_document(
            bytes(body),
            "FHIR answer",
            "json",
            # a Patient.photo or an attachment may be long text: only the size bounds it
            Limits(max_bytes=MAX_FHIR_BYTES, max_string=MAX_FHIR_BYTES),
        )
    except InputError as error:
        raise PreconditionFailed(
            f"{key}: the FHIR server's answer is not FHIR JSON ({error})"
        ) from None


def gather(
    request: CdsRequest,
    templates: Mapping[str, str],
    required: Iterable[str],
    *,
    allowed_servers: Sequence[str] = (),
    timeout_s: float = 10.0,
    transport: httpx.BaseTransport | None = None,
    verify: ssl.SSLContext | bool = True,
) -> dict[str, Any]:
    """Every prefetch key's data (None = the client has none); 412 for missing required data."""
    needed = set(required)
    given = request.prefetch or {}
    data: dict[str, Any] = {}
    missing = [key for key in templates if key not in given]
    errored: list[str] = []
    for key in templates:
        if key in given:
            if _is_error(given[key]):
                errored.append(key)
            data[key] = _usable(given[key], key, templates[key])
    # CDS Hooks 2.0 §Prefetch: "If the CDS Client has no data to populate a template prefetch
    # key, the prefetch template key MUST have a value of null": never a 412 (probe14 F8). With
    # a fhirServer the key is read from it; without, the answer says nothing of it was read.
    nulls = [key for key in templates if key in given and data[key] is None]
    refused = _unusable_server(request, allowed_servers) if nulls and request.fhirServer else None
    if request.fhirServer and refused is None:
        missing += nulls
    if missing and request.fhirServer:
        base = _check_server(request, allowed_servers)
        with _fhir_client(request, timeout_s, transport, verify) as client:
            for key in missing:
                url = f"{base}/{paged_query(render_template(templates[key], request.context))}"
                fetched = _fetch(client, key, url)
                if _is_error(fetched):
                    errored.append(key)
                data[key] = _usable(fetched, key, templates[key])
    elif missing:
        absent = sorted(needed & set(missing))
        if absent:
            raise PreconditionFailed(
                f"prefetch {', '.join(absent)} not given and no fhirServer to fetch it from"
            )
        for key in missing:
            data[key] = None
    if request.fhirServer and any(next_link(value) for value in data.values()):
        notes = _follow_pages(data, request, allowed_servers, timeout_s, transport, verify)
        if notes:
            data[PAGING_NOTES] = notes
    elif any(next_link(value) for value in data.values()):  # no server to read them from
        data[PAGING_NOTES] = [
            note
            for key, value in data.items()
            for note in follow_pages(value, None, base=None, label=key)[1]
        ]
    unresolved = unresolved_medications(request)
    if unresolved and request.fhirServer:
        fetched, notes = _fetch_medications(
            request, unresolved, allowed_servers, timeout_s, transport, verify
        )
        data[FETCHED_MEDICATIONS] = fetched
        if notes:
            data[PAGING_NOTES] = [*(data.get(PAGING_NOTES) or []), *notes]
    # a required key said null is said on a card (it was a 412); an optional one is "none"
    said_null = [key for key in nulls if data.get(key) is None and key in needed]
    if said_null:
        data[PAGING_NOTES] = [
            *(data.get(PAGING_NOTES) or []),
            *(
                f"prefetch {key} was null (the EHR had no data for it, or could not get it)"
                + (
                    " and no fhirServer was given to read it from"
                    if not request.fhirServer
                    else f" and it was not read from the fhirServer ({refused})"
                    if refused
                    else ""
                )
                + ": nothing of it was read or checked"
                for key in said_null
            ),
        ]
    empty = sorted(key for key in needed if data.get(key) is None and key not in nulls)
    if empty:
        raise PreconditionFailed(f"required data not available: {', '.join(empty)}")
    if errored:
        data[ERRORED] = errored
    return data


def _is_error(value: Any) -> bool:
    """An OperationOutcome in place of the data, or a searchset Bundle whose entries are all
    OperationOutcomes (the server's search.mode ``outcome``: e.g. a search too costly)."""
    if not isinstance(value, dict):
        return False
    if value.get("resourceType") == "OperationOutcome":
        return True
    entries = value.get("entry") if value.get("resourceType") == "Bundle" else None
    return (
        isinstance(entries, list)
        and bool(entries)
        and all(
            isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == "OperationOutcome"
            for e in entries
        )
    )


def _follow_pages(
    data: dict[str, Any],
    request: CdsRequest,
    allowed: Sequence[str],
    timeout_s: float,
    transport: httpx.BaseTransport | None,
    verify: ssl.SSLContext | bool = True,
) -> list[str]:
    """Read the further pages (``link[next]``) of every searchset in ``data``, in place, through
    the same guarded client as the prefetch fetch (allow-list, https for a token, no redirects,
    bounded answers); returns what could not be read (issue 16 item 2)."""
    try:
        base = _check_server(request, allowed)
    except PreconditionFailed as refused:
        return [f"{key}: further pages (link next) not read: {refused}"
                for key, value in data.items() if next_link(value)]  # fmt: skip
    notes: list[str] = []
    with _fhir_client(request, timeout_s, transport, verify) as client:
        for key, value in list(data.items()):
            if next_link(value):
                data[key], problems = follow_pages(
                    value, lambda url, key=key: _fetch(client, key, url), base=base, label=key  # type: ignore[misc]  # mypy#12557
                )
                notes += problems
    return notes


def unresolved_medications(request: CdsRequest) -> list[str]:
    """The ``Medication/<id>`` references of the draft orders that neither the draftOrders
    Bundle nor the order itself (``contained``) holds (probe14 S2: such an order passed
    unchecked, the Medication never fetched)."""
    from cmvcds.adapters.fhir.mapping import resources_of

    resources = [r for _, r in resources_of(request.context.get("draftOrders"))]
    sent = {
        f"Medication/{r.get('id')}" for r in resources if r.get("resourceType") == "Medication"
    }
    wanted: list[str] = []
    for order in resources:
        if order.get("resourceType") != "MedicationRequest":
            continue
        ref = (order.get("medicationReference") or {}).get("reference")
        if not isinstance(ref, str) or ref.startswith("#"):
            continue
        kind, _, ident = ref.rstrip("/").rpartition("/")
        key = f"Medication/{ident}"
        if kind == "Medication" and _FHIR_ID.match(ident) and key not in sent and key not in wanted:
            wanted.append(key)
    return wanted


def _fetch_medications(
    request: CdsRequest,
    references: list[str],
    allowed: Sequence[str],
    timeout_s: float,
    transport: httpx.BaseTransport | None,
    verify: ssl.SSLContext | bool,
) -> tuple[dict[str, Any], list[str]]:
    """Each referenced Medication read from ``fhirServer`` through the guarded client (the
    allow-list, https for a token, no redirects, bounded answers), and what could not be read:
    an order whose Medication is not read is then said NOT checked, never dropped."""
    try:
        base = _check_server(request, allowed)
    except PreconditionFailed as refused:
        return {}, [f"{ref}: not read from the FHIR server: {refused}" for ref in references]
    found: dict[str, Any] = {}
    notes: list[str] = []
    with _fhir_client(request, timeout_s, transport, verify) as client:
        for ref in references:
            try:
                resource = _fetch(client, ref, f"{base}/{ref}")
            except PreconditionFailed as failed:
                notes.append(f"{ref}: not read from the FHIR server: {failed}")
                continue
            if (
                isinstance(resource, dict)
                and resource.get("resourceType") == "Medication"
                and f"Medication/{resource.get('id')}" == ref
            ):
                found[ref] = resource
            else:
                notes.append(f"{ref}: the FHIR server has no such Medication")
    return found, notes


def _fhir_client(
    request: CdsRequest,
    timeout_s: float,
    transport: httpx.BaseTransport | None,
    verify: ssl.SSLContext | bool,
) -> httpx.Client:
    """The client every read from ``fhirServer`` goes through: FHIR JSON, the EHR's access token
    (``fhirAuthorization``) when given, no redirects followed, the caller's timeout and TLS."""
    headers = {"Accept": "application/fhir+json"}
    if request.fhirAuthorization is not None:
        headers["Authorization"] = f"Bearer {request.fhirAuthorization.access_token}"
    return httpx.Client(
        timeout=timeout_s,
        headers=headers,
        transport=transport,
        follow_redirects=False,
        verify=verify,
    )
