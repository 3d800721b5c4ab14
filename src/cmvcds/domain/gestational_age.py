"""Gestational age as completed weeks and days (``w+d``), counted from the last menstrual period.

Obstetric convention: GA w+d is 7w + d days after the first day of the LMP (or the LMP implied by
an EDD, which lies 280 days = 40+0 after it, or by a dating scan). Arithmetic is in whole days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from cmvcds.errors import CaseFormatError

__all__ = ["DAYS_LMP_TO_EDD", "GestationalAge"]

DAYS_LMP_TO_EDD = 280
_PATTERN = re.compile(r"^\s*(\d{1,2})\s*\+\s*([0-6])\s*$")


@dataclass(frozen=True, order=True)
class GestationalAge:
    """A gestational age in days; prints and parses as ``w+d`` (e.g. ``20+1`` = 141 days)."""

    days: int

    def __post_init__(self) -> None:
        if self.days < 0:
            raise CaseFormatError(f"a gestational age cannot be negative ({self.days} days)")

    @classmethod
    def parse(cls, text: str) -> GestationalAge:
        """``"12+3"`` → 87 days. Days must be 0–6."""
        match = _PATTERN.match(str(text))
        if not match:
            raise CaseFormatError(
                f"gestational age {text!r} is not of the form weeks+days, e.g. 12+3"
            )
        return cls(int(match.group(1)) * 7 + int(match.group(2)))

    @classmethod
    def of(cls, weeks: int, days: int = 0) -> GestationalAge:
        return cls(weeks * 7 + days)

    @classmethod
    def on(cls, day: date, lmp: date) -> GestationalAge:
        """The gestational age on ``day`` of a pregnancy dated by ``lmp``."""
        return cls((day - lmp).days)

    @property
    def weeks(self) -> int:
        return self.days // 7

    @property
    def remainder_days(self) -> int:
        return self.days % 7

    def date(self, lmp: date) -> date:
        """The calendar date on which the pregnancy dated by ``lmp`` reaches this age."""
        return lmp + timedelta(days=self.days)

    def __str__(self) -> str:
        return f"{self.weeks}+{self.remainder_days}"
