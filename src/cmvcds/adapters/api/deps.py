"""Dependencies shared by the routes: the installation's clinic, store, index and settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from cmvcds.adapters.api.search import KnowledgeIndex
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.adapters.api.store import CaseStore

__all__ = ["ClinicDep", "IndexDep", "SettingsDep", "StoreDep"]


def _state(name: str) -> Callable[[Request], Any]:
    """A dependency returning ``app.state.<name>`` (set by ``create_app``)."""

    def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    return get


ClinicDep = Annotated[Clinic, Depends(_state("clinic"))]
StoreDep = Annotated[CaseStore, Depends(_state("store"))]
IndexDep = Annotated[KnowledgeIndex, Depends(_state("index"))]
SettingsDep = Annotated[Settings, Depends(_state("settings"))]
