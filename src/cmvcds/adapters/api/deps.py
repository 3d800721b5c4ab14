"""Dependencies shared by the routes: the installation's clinic, store, index and settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from cmvcds.adapters.api.search import KnowledgeIndex
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.adapters.api.store import CaseStore

__all__ = ["ClinicDep", "IndexDep", "SettingsDep", "StoreDep"]


def _state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency returning ``app.state.<name>`` (set by ``create_app``). A coroutine, so that
    FastAPI runs it on the event loop: a plain function would cost a thread-pool hop per
    dependency per request for one attribute read (issue 20: 9-15 % of a CDS Hooks call)."""

    async def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    return get


ClinicDep = Annotated[Clinic, Depends(_state("clinic"))]
StoreDep = Annotated[CaseStore, Depends(_state("store"))]
IndexDep = Annotated[KnowledgeIndex, Depends(_state("index"))]
SettingsDep = Annotated[Settings, Depends(_state("settings"))]
