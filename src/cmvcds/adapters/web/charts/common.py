"""What the charts share: the frame they are drawn in (wide for screens and print, narrow for a
390 px phone, where the labels move above the rows and keep their size), colours, and dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cmvcds.domain.gestational_age import GestationalAge

__all__ = ["COLOURS", "NARROW", "WIDE", "Frame", "as_date", "ga_text"]

COLOURS = ("#1f5fa8", "#c2571a", "#2a8a4a", "#8a2a7a", "#5a5a5a", "#a88a1f")


@dataclass(frozen=True)
class Frame:
    """A chart's width and margins in SVG units; ``narrow`` puts row labels above their row."""

    width: int
    left: int
    right: int
    narrow: bool
    suffix: str  # keeps element ids unique when both frames are on one page

    @property
    def plot(self) -> int:
        return self.width - self.left - self.right

    @property
    def name(self) -> str:
        """``data-frame`` of the SVG: the stylesheet shows one frame per screen width."""
        return "narrow" if self.narrow else "wide"


WIDE = Frame(760, 150, 24, narrow=False, suffix="")
NARROW = Frame(380, 12, 14, narrow=True, suffix="-n")


def as_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def ga_text(days: int) -> str:
    return str(GestationalAge(max(days, 0)))
