"""``create_app(settings)``: the web pages, ``/api/v1`` and ``/cds-services`` in one FastAPI app.

The registry's and the question-answering pages are mounted when their packages are present
(``cmvcds.adapters.web.registry``, ``cmvcds.adapters.web.ask``), each exposing a ``router``.
"""

from __future__ import annotations

import gc
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from cmvcds.adapters.api.clinical_access import ClinicalAccess
from cmvcds.adapters.api.guard import BodyGuard
from cmvcds.adapters.api.headers import SecurityHeaders
from cmvcds.adapters.api.openapi_security import add_security
from cmvcds.adapters.api.problems import install_problem_handlers, problem_responses
from cmvcds.adapters.api.readiness import router as readiness_router
from cmvcds.adapters.api.request_log import RequestLog
from cmvcds.adapters.api.routes import cmvcds_version
from cmvcds.adapters.api.routes import router as api_router
from cmvcds.adapters.api.search import KnowledgeIndex
from cmvcds.adapters.api.service import Clinic, examples_folder
from cmvcds.adapters.api.settings import Settings
from cmvcds.adapters.api.store import CaseStore
from cmvcds.adapters.web.i18n import LocaleMiddleware
from cmvcds.domain.case import Case
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.core import PlausibilityLimits

__all__ = ["create_app", "served_app"]

LOG = logging.getLogger("cmvcds.api")

#: Optional page packages of other parts of cmvcds, mounted when importable.
OPTIONAL_ROUTERS = {
    "cmvcds.adapters.web.registry": ("Registry", "/registry"),
    "cmvcds.adapters.web.ask": ("Ask", "/ask"),
}


def create_app(settings: Settings | None = None, clinic: Clinic | None = None) -> FastAPI:
    """The application for ``settings`` (from the environment by default)."""
    settings = settings or Settings()
    clinic = clinic or Clinic.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.store.engine.dispose()
        if app.state.probe_engine is not None:
            app.state.probe_engine.dispose()

    app = FastAPI(
        title="cmvcds",
        version=cmvcds_version(),
        summary="Clinical decision support for CMV antiviral therapy. Every answer cited.",
        lifespan=lifespan,
        responses=problem_responses(400, 422, 500),
        docs_url=None,  # Swagger UI and ReDoc load their JavaScript from a CDN: not served
        redoc_url=None,
    )
    if settings.cds_insecure_no_jwt:
        LOG.warning(
            "INSECURE: CDS Hooks calls are accepted WITHOUT a JWT (--insecure-no-jwt / "
            "CMVCDS_CDS_INSECURE_NO_JWT): anyone who reaches this port can call the services. "
            "For a local demo only."
        )
    app.state.settings = settings
    app.state.clinic = clinic
    app.state.store = CaseStore(settings.database_url)
    app.state.index = KnowledgeIndex(clinic.knowledge)
    app.state.probe_engine = None  # made by the first /readyz
    if settings.demo_cases:
        folder = examples_folder(settings)
        if folder is not None:
            added = app.state.store.load_demo(folder)
            LOG.info("demo cases: %d added from %s", added, folder)
    install_problem_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
    )
    app.add_middleware(ClinicalAccess, settings=settings)
    app.add_middleware(BodyGuard)  # inside the headers: a 413 gets them too
    app.add_middleware(SecurityHeaders)
    app.add_middleware(LocaleMiddleware)  # every page, error pages too
    app.add_middleware(RequestLog)  # outermost: every answer logged, with its request id
    from cmvcds.adapters.cdshooks.routes import router as cds_router
    from cmvcds.adapters.smart import router as smart_router
    from cmvcds.adapters.web.pages import STATIC_DIR
    from cmvcds.adapters.web.pages import router as web_router
    from cmvcds.adapters.web.render import SITE

    # The EHR's calls first: a request is matched against the routes in order (issue 20, item 5:
    # behind some 20 routes, the match cost ~3 % of a CDS Hooks call); no other route's path
    # starts with /cds-services.
    app.include_router(cds_router)
    app.include_router(api_router)
    app.include_router(readiness_router)
    app.include_router(smart_router)
    app.include_router(web_router)
    nav: list[tuple[str, str]] = []
    for name, (label, url) in OPTIONAL_ROUTERS.items():
        module = _optional(name)
        if module is not None and hasattr(module, "router"):
            app.include_router(module.router)
            nav.append((label, url))
    SITE["extra_nav"] = nav  # every part's pages: the same menu and banner
    SITE["demo_mode"] = settings.mode == "demo"
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def served_app() -> FastAPI:
    """``create_app()`` as each ``cmvcds serve`` worker runs it, its start-up objects then frozen
    out of the cycle collector (``gc.freeze``): the knowledge pack, the modules and the app are
    ~260,000 objects that live as long as the process, and every full collection walked them
    all (~130-190 ms of CPU, a pause of every call in flight; issue 20, item 5). Collections
    still run for what the requests leave behind. Not in ``create_app``: a process that makes
    many apps (the tests) would keep each one's garbage for good."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated OpenAPI, with the case format (design.md §3) as the body of ``assess``.

    The route reads the body as a plain mapping, so that the case parser (not FastAPI) names
    every problem with the CLI's wording; the schema tells clients what a case looks like.
    """
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    case = Case.model_json_schema(ref_template="#/components/schemas/Case{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(
        {f"Case{name}": definition for name, definition in case.pop("$defs", {}).items()}
    )
    case["required"] = [
        name for name in case.get("required", []) if name != "assessed_on"
    ]  # defaults to today
    components["Case"] = case
    body = schema["paths"]["/api/v1/assess"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"] = {"$ref": "#/components/schemas/Case"}
    _plausible_ranges(components, app.state.clinic.knowledge)
    add_security(schema, production=app.state.settings.mode == "production")
    app.openapi_schema = schema
    return schema


def _plausible_ranges(components: dict[str, Any], knowledge: Knowledge) -> None:
    """The parser's plausible ranges (``core/plausibility.yaml``) as the schema's bounds of the
    patient's numbers, so that the OpenAPI promises what the validators accept — stated once,
    in the knowledge, and copied here when the document is built."""
    limits = knowledge.table("plausibility", PlausibilityLimits)
    ranges = {"weight_kg": limits.weight_kg, "height_cm": limits.height_cm}
    ranges["age_years"] = limits.age_years
    for model in ("DosePatient", "CasePatient"):
        properties = components.get(model, {}).get("properties", {})
        for name, (low, high) in ranges.items():
            for branch in properties.get(name, {}).get("anyOf", []):
                if branch.get("type") == "number":
                    branch.pop("exclusiveMinimum", None)
                    branch.update({"minimum": float(low), "maximum": float(high)})


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and name.startswith(error.name):
            return None
        LOG.error("%s not mounted: %s", name, error)
        return None
    except Exception as error:  # another part's page package is broken: serve the rest
        LOG.error("%s not mounted: %s: %s", name, type(error).__name__, error)
        return None
