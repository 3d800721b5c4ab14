"""Errors as ``application/problem+json`` (RFC 9457), never a stack trace.

Every refusal of input is a 422 whose ``errors`` list names each field at fault with the same
message the CLI prints; anything unexpected is a 500 that says only that it happened.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cmvcds.errors import CmvcdsError, InputError

__all__ = [
    "PROBLEM_SCHEMA",
    "ProblemResponse",
    "install_problem_handlers",
    "problem_responses",
    "problems_of",
    "split_problem",
]

PROBLEM_TYPE = "application/problem+json"
LOG = logging.getLogger("cmvcds.api")

#: The OpenAPI schema of a problem document (inline, so clients and schemathesis need no refs).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem statuses an operation can return."""
    titles = {
        400: "Bad request",
        401: "Not authenticated",
        404: "Not found",
        412: "Precondition failed (required data not available)",
        422: "Invalid input; each field at fault is named",
        500: "Internal error",
        503: "Not available in this build",
    }
    return {
        status: {
            "description": titles.get(status, "Problem"),
            "content": {PROBLEM_TYPE: {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_TYPE


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    kind: str = "about:blank",
) -> ProblemResponse:
    body: dict[str, Any] = {"type": kind, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    return ProblemResponse(body, status_code=status)


def split_problem(line: str, default_field: str | None = None) -> dict[str, str]:
    """``"patient.weight_kg: 900 kg is implausible"`` → ``{"field": …, "message": …}``."""
    field, sep, message = line.partition(": ")
    if not sep or " " in field.strip().split("(")[0].strip():
        return {"field": default_field or "(input)", "message": line}
    return {"field": field, "message": message}


def problems_of(error: CmvcdsError) -> list[dict[str, str]]:
    """Every problem an error carries, each with its field (``CaseFormatError.problems``)."""
    lines: list[str] | None = getattr(error, "problems", None)
    if lines:
        return [split_problem(line) for line in lines]
    return [{"field": error.field or "(input)", "message": error.message}]


def input_problem(error: InputError) -> ProblemResponse:
    errors = problems_of(error)
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
    if len(errors) > 3:
        detail += f"; and {len(errors) - 3} more"
    return problem(422, "Invalid input", detail, errors, kind="urn:cmvcds:problem:invalid-input")


def install_problem_handlers(app: FastAPI) -> None:
    """Map the cmvcds exception tree, FastAPI validation and HTTP errors to problem documents."""

    @app.exception_handler(InputError)
    async def _input(_: Request, error: InputError) -> ProblemResponse:
        return input_problem(error)

    @app.exception_handler(CmvcdsError)
    async def _cmvcds(_: Request, error: CmvcdsError) -> ProblemResponse:
        LOG.error("cmvcds error: %s", error)
        return problem(
            500, "The service cannot answer", str(error), kind="urn:cmvcds:problem:service"
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> ProblemResponse:
        errors = [_pydantic_error(e) for e in error.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
        return problem(
            422, "Invalid input", detail, errors, kind="urn:cmvcds:problem:invalid-input"
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> ProblemResponse:
        detail = error.detail if isinstance(error.detail, str) else None
        title = {
            400: "Bad request",
            401: "Not authenticated",
            404: "Not found",
            405: "Method not allowed",
            412: "Precondition failed",
            503: "Not available",
        }.get(error.status_code, detail or "HTTP error")
        response = problem(error.status_code, title, detail)
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _internal(_: Request, error: Exception) -> ProblemResponse:
        LOG.exception("internal error")
        return problem(500, "Internal error", "an unexpected error occurred; it has been logged")


def _pydantic_error(error: dict[str, Any]) -> dict[str, str]:
    loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    field = ""
    for part in loc:
        field += f"[{part}]" if part.isdigit() else (f".{part}" if field else part)
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")  # a validator's words
    return {"field": field or "(body)", "message": message}
