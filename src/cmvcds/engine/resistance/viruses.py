"""The herpesviruses the resistance report covers, and which knowledge tables describe each.

HCMV (the default, ``cmv``) has the full set of tables: reference genes, HerpesDRG-DB rows,
studies, drugs, curated levels, combined-effect rules and natural polymorphisms. HSV-1, HSV-2 and VZV (issue 18) have
their own reference, rows, studies and drugs (``resistance/<virus>/``); the fold-change bands and
the reporting threshold (``resistance_levels``) are shared. Table names differ per virus because
HSV-1 and HSV-2 share gene names (UL23, UL30) but not sequences or phenotypes.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmvcds.errors import SequenceInputError

__all__ = ["DEFAULT_VIRUS", "VIRUSES", "VirusTables", "virus_tables"]


@dataclass(frozen=True)
class VirusTables:
    key: str  # as the CLI, API and web form take it
    name: str  # as a report title says it
    strain: str  # the reference strain, as input errors name it
    reference: str
    mutations: str
    studies: str
    drugs: str
    curation: str | None = None
    combined_effects: str | None = None
    polymorphisms: str | None = None


def _alpha(key: str, name: str, strain: str) -> VirusTables:
    prefix = f"resistance_{key}"
    return VirusTables(
        key,
        name,
        strain,
        f"{prefix}_reference",
        f"{prefix}_mutations",
        f"{prefix}_studies",
        f"{prefix}_drugs",
    )


VIRUSES: dict[str, VirusTables] = {
    "cmv": VirusTables(
        "cmv",
        "CMV",
        "Merlin",
        "resistance_reference",
        "resistance_mutations",
        "resistance_studies",
        "resistance_drugs",
        "resistance_curation",
        "resistance_combined_effects",
        "resistance_polymorphisms",
    ),
    "hsv1": _alpha("hsv1", "HSV-1", "strain 17"),
    "hsv2": _alpha("hsv2", "HSV-2", "HG52"),
    "vzv": _alpha("vzv", "VZV", "Dumas"),
}
DEFAULT_VIRUS = "cmv"


def virus_tables(key: str) -> VirusTables:
    """The tables of virus ``key`` (``cmv``, ``hsv1``, ``hsv2``, ``vzv``; case-insensitive)."""
    try:
        return VIRUSES[key.strip().lower()]
    except KeyError:
        raise SequenceInputError(
            f"virus {key!r} is not covered; choose one of {', '.join(VIRUSES)}"
        ) from None
