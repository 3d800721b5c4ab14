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
from cmvcds.registry.models.data import DataQuery, DataValue, FormVersion, QueryStatus
from cmvcds.registry.models.review import REVIEW_STATUSES, StatementReview
from cmvcds.registry.models.site import LoginAttempt, Site, User, WebSession
from cmvcds.registry.models.subject import Consent, DateShift, IdentityLink, Subject
from cmvcds.registry.roles import Role

__all__ = [
    "GENESIS",
    "REVIEW_STATUSES",
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
    "FormVersion",
    "IdentityLink",
    "LoginAttempt",
    "QueryStatus",
    "Role",
    "Site",
    "StatementReview",
    "StoredAssessment",
    "Subject",
    "User",
    "WebSession",
    "new_id",
    "utc_now",
]
