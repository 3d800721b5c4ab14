"""cmvcds: clinical decision support for cytomegalovirus antiviral therapy, every answer cited.

The public API: load the knowledge pack, parse a case, assess it. Everything else is reached
through the CLI (``cmvcds``), the REST API and the CDS Hooks services.

``cmvcds.assess`` is the function (the module of the same name is ``cmvcds.assess`` in
``sys.modules``); it is bound here after the module is imported, so the name stays the function.
"""

from cmvcds.assess import Assessment, assess
from cmvcds.domain.case import Case, parse_case
from cmvcds.domain.settings import SiteSettings, parse_settings
from cmvcds.errors import CmvcdsError, InputError, KnowledgeError
from cmvcds.knowledge import Knowledge, load_knowledge

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
