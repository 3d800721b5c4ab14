"""The registry's tables, one module per entity family."""

from cmvcds.registry.models.assessment import StoredAssessment
from cmvcds.registry.models.audit import (
    GENESIS,
    AuditEntry,
    AuditHead,
    DictionaryVersion,
    ExportLog,
)
from cmvcds.registry.models.base import Audited, Base, new_id, utc_now
from cmvcds.registry.models.data import DataQuery, DataValue, QueryStatus
from cmvcds.registry.models.site import Site, User, WebSession
from cmvcds.registry.models.subject import Consent, DateShift, IdentityLink, Subject
from cmvcds.registry.roles import Role

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditHead",
    "Audited",
    "Base",
    "Consent",
    "DataQuery",
    "DataValue",
    "DateShift",
    "DictionaryVersion",
    "ExportLog",
    "IdentityLink",
    "QueryStatus",
    "Role",
    "Site",
    "StoredAssessment",
    "Subject",
    "User",
    "WebSession",
    "new_id",
    "utc_now",
]
