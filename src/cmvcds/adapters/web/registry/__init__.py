"""The registry's web pages (login, dashboard, subjects, enrolment, consent, event grid, forms
with queries, audit, exports, analyses, statement review, users and sites) and its JSON API
(``/api/v1/registry``), as one FastAPI router: ``from cmvcds.adapters.web.registry import router``."""

from fastapi import APIRouter

from cmvcds.adapters.web.registry import (
    admin_pages,
    api,
    query_pages,
    review_pages,
    routes,
    subject_pages,
)

# Every registry request body and form is bounded (issue 17: no unbounded form post).
router = APIRouter(max_body_size=routes.MAX_BODY, form_limits=routes.FORM_LIMITS)  # type: ignore[arg-type]
router.include_router(subject_pages.router)
router.include_router(query_pages.router)
router.include_router(review_pages.router)
router.include_router(admin_pages.router)
router.include_router(routes.router)
router.include_router(api.router)

__all__ = ["router"]
