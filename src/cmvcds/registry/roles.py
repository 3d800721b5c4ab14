"""The roles of the study (a plain enum, importable without the database stack)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Role"]


class Role(StrEnum):
    """What a user is in the study; site roles see only their own site."""

    SITE_DATA_ENTRY = "site_data_entry"
    SITE_INVESTIGATOR = "site_investigator"
    MONITOR = "monitor"
    DATA_MANAGER = "data_manager"
    STATISTICIAN = "statistician"
    ADMINISTRATOR = "administrator"
    REVIEWER = "reviewer"  # approves or returns the statements answers are built on

    @property
    def site_scoped(self) -> bool:
        return self in (Role.SITE_DATA_ENTRY, Role.SITE_INVESTIGATOR)
