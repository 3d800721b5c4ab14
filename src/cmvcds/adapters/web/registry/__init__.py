"""The registry's web pages (login, dashboard, subjects, event grid, forms, audit, exports,
analyses) as one FastAPI router: ``from cmvcds.adapters.web.registry import router``."""

from cmvcds.adapters.web.registry.routes import router

__all__ = ["router"]
