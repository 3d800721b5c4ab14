"""cmvcds: clinical decision support for cytomegalovirus antiviral therapy, every answer cited.

The public API: load the knowledge pack, parse a case, assess it. Everything else is reached
through the CLI (``cmvcds``), the REST API and the CDS Hooks services.

Names are imported on first use (PEP 562), so that ``cmvcds --help`` or loading the knowledge
does not import every pathway. ``cmvcds.assess`` is both a submodule and the function it
defines; the package attribute always means the function (``_Package.assess``), whichever was
imported first — the module stays reachable as ``sys.modules["cmvcds.assess"]``.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cmvcds.assess import Assessment, assess
    from cmvcds.domain.case import Case, parse_case
    from cmvcds.domain.settings import SiteSettings, parse_settings
    from cmvcds.errors import CmvcdsError, InputError, KnowledgeError
    from cmvcds.knowledge import Knowledge, load_knowledge

_EXPORTS = {
    "Assessment": "cmvcds.assess",
    "Case": "cmvcds.domain.case",
    "parse_case": "cmvcds.domain.case",
    "SiteSettings": "cmvcds.domain.settings",
    "parse_settings": "cmvcds.domain.settings",
    "CmvcdsError": "cmvcds.errors",
    "InputError": "cmvcds.errors",
    "KnowledgeError": "cmvcds.errors",
    "Knowledge": "cmvcds.knowledge",
    "load_knowledge": "cmvcds.knowledge",
}

__all__ = [
    "Assessment",
    "Case",
    "CmvcdsError",
    "InputError",
    "Knowledge",
    "KnowledgeError",
    "SiteSettings",
    "assess",
    "load_knowledge",
    "parse_case",
    "parse_settings",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'cmvcds' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """The package's module type: keeps ``cmvcds.assess`` bound to the function."""

    @property
    def assess(self) -> Any:
        return importlib.import_module("cmvcds.assess").assess

    @assess.setter
    def assess(self, submodule: Any) -> None:
        """The import system binds the submodule here after loading it; the function stays."""


sys.modules[__name__].__class__ = _Package
