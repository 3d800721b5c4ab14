"""``/readyz``: whether this instance can serve — the database answers, the registry schema is at
the Alembic head and the web app's tables exist; with ``cmvcds serve --workers N``, every worker
listens (``listener.workers_listening``: a pool of keep-alive connections opened while one worker
still starts would stay on the others for good; ADR 0033-cds23).

``/api/v1/healthz`` stays the *liveness* probe (the process answers; never touches the database),
so an orchestrator restarts a hung process but only takes an instance out of the load balancer
when its database is away. The probe uses its own connection, outside the app's pool, with a
bounded connect and statement time: a database that stops answering turns the probe red within
``PROBE_TIMEOUT_S`` seconds instead of hanging it (Kubernetes' probe contract; PostgreSQL
``connect_timeout``, SQLite's busy wait).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from cmvcds.adapters.api.listener import workers_listening
from cmvcds.adapters.api.store import metadata
from cmvcds.registry.migrate import head_revision

__all__ = ["PROBE_TIMEOUT_S", "Readiness", "check_readiness", "probe_engine", "router"]

#: Longest a probe waits for the database to accept a connection or answer a statement.
PROBE_TIMEOUT_S = 3

router = APIRouter(tags=["operations"])


class ReadinessChecks(BaseModel):
    database: Literal["ok", "unreachable"]
    schema_revision: str | None
    schema_head: str
    workers: str | None = Field(
        default=None,
        description="With `cmvcds serve --workers N`: how many of the N workers listen "
        "(`2 of 2`); absent with one process.",
    )


class ReadinessOut(BaseModel):
    """The body of ``/readyz`` (200 and 503 alike)."""

    status: Literal["ready", "not ready"]
    checks: ReadinessChecks
    problems: list[str]


@dataclass(frozen=True)
class Readiness:
    """The outcome of one probe: ``problems`` is empty when the instance is ready."""

    database: str
    schema_revision: str | None
    schema_head: str
    problems: list[str] = field(default_factory=list)
    #: ``(listening, of)`` in a worker of ``serve --workers N``; None otherwise.
    workers: tuple[int, int] | None = None

    @property
    def ready(self) -> bool:
        return not self.problems

    def body(self) -> dict[str, Any]:
        checks: dict[str, Any] = {
            "database": self.database,
            "schema_revision": self.schema_revision,
            "schema_head": self.schema_head,
        }
        if self.workers is not None:
            checks["workers"] = f"{self.workers[0]} of {self.workers[1]}"
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": checks,
            "problems": self.problems,
        }


def probe_engine(url: str) -> Engine:
    """An engine for probes only: no pool (a dead connection is never reused), bounded waits."""
    parsed = make_url(url)
    dialect = parsed.get_backend_name()
    if dialect == "postgresql":
        given = parsed.query.get("options", "")  # e.g. a search_path: kept
        options = " ".join([*([given] if isinstance(given, str) else given)])
        connect_args: dict[str, Any] = {
            "connect_timeout": PROBE_TIMEOUT_S,
            "options": f"{options} -c statement_timeout={PROBE_TIMEOUT_S * 1000}".strip(),
        }
    elif dialect == "sqlite":
        connect_args = {"timeout": PROBE_TIMEOUT_S}
    else:
        connect_args = {}
    return create_engine(
        url, poolclass=NullPool, connect_args=connect_args, hide_parameters=True
    )


@lru_cache(maxsize=1)
def _head() -> str:
    """The code's migration head (read from the shipped scripts once: they never change)."""
    return head_revision()


def check_readiness(
    engine: Engine, web_tables: list[str], workers: tuple[int, int] | None = None
) -> Readiness:
    """Probe ``engine``: connect, read the Alembic revision, look for ``web_tables``; with
    ``workers`` (``(listening, of)``), all of them must listen."""
    head = _head()
    result = _database(engine, web_tables, head)
    if workers is None:
        return result
    problems = list(result.problems)
    if workers[0] < workers[1]:
        problems.append(
            f"{workers[0]} of {workers[1]} workers listen: the others are still starting "
            "(connections opened now would all stay on the ones that listen)"
        )
    return Readiness(result.database, result.schema_revision, head, problems, workers)


def _database(engine: Engine, web_tables: list[str], head: str) -> Readiness:
    """The database's part of the probe."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
            present = set(inspect(connection).get_table_names())
    except Exception as error:  # any failure to reach the database is "not ready", said
        return Readiness("unreachable", None, head, [f"database unreachable: {_short(error)}"])
    problems = []
    if current is None:
        problems.append(f"registry schema not migrated (head {head}): run `cmvcds registry init`")
    elif current != head:
        problems.append(
            f"registry schema at revision {current}, code expects {head}: "
            "run `cmvcds registry init` (migrations) before serving"
        )
    missing = sorted(set(web_tables) - present)
    if missing:
        problems.append(f"web tables missing: {', '.join(missing)}")
    return Readiness("ok", current, head, problems)


def _short(error: BaseException) -> str:
    """The error's class and first line (never the URL: it may carry a password)."""
    original = getattr(error, "orig", None) or error
    first = (str(original).strip().splitlines() or [""])[0][:200]
    return f"{type(original).__name__}: {first}" if first else type(original).__name__


@router.get(
    "/readyz",
    summary="Readiness: database reachable, schema at the migration head, web tables present",
    response_model=ReadinessOut,
    responses={503: {"model": ReadinessOut, "description": "Not ready: `problems` says why"}},
)
def readyz(request: Request) -> JSONResponse:
    """200 when ready, 503 listing the problems otherwise (run in a worker thread: the event
    loop keeps serving while the probe waits on the database)."""
    state = request.app.state
    if getattr(state, "probe_engine", None) is None:
        state.probe_engine = probe_engine(state.settings.database_url)
    result = check_readiness(state.probe_engine, list(metadata.tables), workers_listening())
    return JSONResponse(result.body(), status_code=200 if result.ready else 503)
