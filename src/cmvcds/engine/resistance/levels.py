"""Resistance levels and mutation statuses, and how a set of phenotype rows becomes a level."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import median

from cmvcds.knowledge.schemas.resistance import (
    CuratedCall,
    Evidence,
    MutationPhenotype,
    NaturalPolymorphism,
    Phenotype,
    ResistanceLevels,
)

__all__ = ["Assessment", "Level", "MutationStatus", "assess_rows", "band", "listed_polymorphism"]


class Level(StrEnum):
    """A drug's resistance level (design.md "The resistance report"), ordered by ``rank``."""

    SUSCEPTIBLE = "susceptible"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    UNKNOWN = "unknown"
    NOT_ASSESSED = "not_assessed"

    @property
    def rank(self) -> int:
        """Order of the measured levels; ``unknown`` and ``not_assessed`` sit outside it."""
        return {"susceptible": 0, "low": 1, "moderate": 2, "high": 3}.get(self.value, -1)

    @property
    def is_resistance(self) -> bool:
        return self.rank >= 1

    @property
    def wording(self) -> str:
        return {
            "susceptible": "Susceptible",
            "low": "Low-level resistance",
            "moderate": "Moderate resistance",
            "high": "High-level resistance",
            "unknown": "Unknown: change(s) of uncharacterised effect in a target gene",
            "not_assessed": "Not assessed: a target gene was not sequenced or not covered",
        }[self.value]


class MutationStatus(StrEnum):
    RESISTANCE = "resistance"
    POLYMORPHISM = "polymorphism"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Assessment:
    """What the phenotype rows of one mutation (or combination) say about one drug."""

    level: Level
    fold_change: tuple[float, float] | None
    evidence: Evidence
    rows: tuple[MutationPhenotype, ...]
    qualitative: bool = False
    polymorphism: bool = False
    curated: CuratedCall | None = None  # a curated level replaced ``measured``
    measured: Level | None = None
    listed: NaturalPolymorphism | None = None  # from polymorphisms.yaml (``rows`` is empty)


def band(value: float, levels: ResistanceLevels) -> Level:
    for item in levels.bands:
        if (item.lower is None or value >= float(item.lower)) and (
            item.upper is None or value < float(item.upper)
        ):
            return Level(item.level)
    raise AssertionError("levels.yaml bands are contiguous and open at both ends")


def _representative(row: MutationPhenotype) -> float:
    """The value a row counts as: a range by its upper end, ``<x`` just below x, ``>x`` as x."""
    low, high = row.bounds()
    if low is None and high is not None:
        return high * (1 - 1e-9)
    if high is None and low is not None:
        return low
    assert high is not None
    return high


def _span(rows: Sequence[MutationPhenotype]) -> tuple[float, float]:
    values = [v for row in rows for v in row.bounds() if v is not None]
    return min(values), max(values)


def assess_rows(rows: Sequence[MutationPhenotype], levels: ResistanceLevels) -> Assessment:
    """The level from the strongest evidence class with fold changes (see ``levels.yaml``)."""
    for evidence in levels.evidence_preference:
        numeric = [
            r for r in rows if r.evidence is evidence and r.phenotype is Phenotype.FOLD_CHANGE
        ]
        if numeric:
            values = [_representative(r) for r in numeric]
            value = median(values) if levels.aggregate == "median" else max(values)
            return Assessment(band(value, levels), _span(numeric), evidence, tuple(numeric))
    resistant = tuple(r for r in rows if r.phenotype is Phenotype.RESISTANT)
    if resistant:
        return Assessment(
            Level(levels.resistant_without_value),
            None,
            resistant[0].evidence,
            resistant,
            qualitative=True,
        )
    polymorphic = tuple(r for r in rows if r.phenotype is Phenotype.POLYMORPHISM)
    return Assessment(
        Level.SUSCEPTIBLE, None, polymorphic[0].evidence, polymorphic, polymorphism=True
    )


def listed_polymorphism(row: NaturalPolymorphism) -> Assessment:
    """A natural polymorphism of ``polymorphisms.yaml``: susceptible, for the row's drug only."""
    return Assessment(Level.SUSCEPTIBLE, None, row.evidence, (), polymorphism=True, listed=row)
