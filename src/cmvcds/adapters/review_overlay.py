"""The registry's review records of the answer statements, for the Ask faces (CLI and web).

The engine stays pure: an adapter reads ``{statement_id: ReviewRecord}`` here and passes it to
``AnswerEngine.ask(..., reviews=...)``. Without a configured database, or with one whose schema
has no ``statement_reviews`` table yet (not migrated to 0003), there is no overlay and the
pack's own records stand. Any other database error is raised, never hidden: an answer must not
claim an approval the registry has withdrawn.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from sqlalchemy import inspect

from cmvcds.knowledge.schemas.answers import ReviewRecord
from cmvcds.registry.db import Registry
from cmvcds.registry.models import StatementReview
from cmvcds.registry.services import reviews

__all__ = ["app_reviews", "env_reviews", "registry_reviews"]

_LOCK = threading.Lock()
_REGISTRIES: dict[str, Registry] = {}
_HAS_TABLE: set[int] = set()


def _registry_at(url: str) -> Registry:
    with _LOCK:
        registry = _REGISTRIES.get(url)
        if registry is None:
            registry = _REGISTRIES[url] = Registry(url)
        return registry


def registry_reviews(registry: Registry) -> dict[str, ReviewRecord] | None:
    """The overlay held by ``registry``; None when its schema has no review table."""
    key = id(registry.engine)
    if key not in _HAS_TABLE:
        if not inspect(registry.engine).has_table(StatementReview.__tablename__):
            return None
        _HAS_TABLE.add(key)
    with registry.session(None) as session:
        return reviews.overlay(session)


def env_reviews() -> dict[str, ReviewRecord] | None:
    """The overlay of ``$CMVCDS_DATABASE_URL`` (``cmvcds ask``); None when it is not set."""
    url = os.environ.get("CMVCDS_DATABASE_URL")
    return registry_reviews(_registry_at(url)) if url else None


def app_reviews(state: Any) -> dict[str, ReviewRecord] | None:
    """The overlay of a web app: its registry (``app.state.registry``), else its database."""
    registry = getattr(state, "registry", None)
    if registry is None:
        url = getattr(getattr(state, "settings", None), "database_url", None)
        if not url:
            return env_reviews()
        registry = _registry_at(url)
    return registry_reviews(registry)
