"""The data a service needs: from the request's prefetch, else fetched from ``fhirServer``
with the bearer token, else ``PreconditionFailed`` (HTTP 412), as CDS Hooks 2.0.1 requires."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from cmvcds.adapters.cdshooks.models import CdsRequest

__all__ = ["PreconditionFailed", "gather", "render_template"]

_TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")


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
        return text.split("/", 1)[1] if name == "userPractitionerId" and "/" in text else text

    return _TOKEN.sub(value, template)


def _usable(value: Any) -> Any:
    """``None`` for an absent result: null, or an OperationOutcome in place of the data."""
    if isinstance(value, dict) and value.get("resourceType") == "OperationOutcome":
        return None
    return value


def gather(
    request: CdsRequest,
    templates: Mapping[str, str],
    required: Iterable[str],
    *,
    timeout_s: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> dict[str, Any]:
    """Every prefetch key's data (None = the client has none); 412 for missing required data."""
    needed = set(required)
    given = request.prefetch or {}
    data: dict[str, Any] = {}
    missing = [key for key in templates if key not in given]
    for key in templates:
        if key in given:
            data[key] = _usable(given[key])
    if missing and request.fhirServer:
        headers = {"Accept": "application/fhir+json"}
        if request.fhirAuthorization is not None:
            headers["Authorization"] = f"Bearer {request.fhirAuthorization.access_token}"
        base = request.fhirServer.rstrip("/")
        with httpx.Client(timeout=timeout_s, headers=headers, transport=transport) as client:
            for key in missing:
                url = f"{base}/{render_template(templates[key], request.context)}"
                try:
                    response = client.get(url)
                except httpx.HTTPError as error:
                    raise PreconditionFailed(
                        f"{key}: the FHIR server could not be reached ({type(error).__name__})"
                    ) from None
                if response.status_code == 404:
                    data[key] = None
                    continue
                if response.status_code >= 400:
                    raise PreconditionFailed(
                        f"{key}: the FHIR server answered {response.status_code}"
                    )
                data[key] = _usable(response.json())
    elif missing:
        absent = sorted(needed & set(missing))
        if absent:
            raise PreconditionFailed(
                f"prefetch {', '.join(absent)} not given and no fhirServer to fetch it from"
            )
        for key in missing:
            data[key] = None
    empty = sorted(key for key in needed if data.get(key) is None)
    if empty:
        raise PreconditionFailed(f"required data not available: {', '.join(empty)}")
    return data
