"""The resistance genes of the Merlin reference as the engine uses them.

Built once per knowledge pack from ``resistance_reference``: coding sequence, protein, exons and
the mapping between genome coordinates (NC_006273.2, 1-based) and coding positions (0-based).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from cmvcds.errors import KnowledgeError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.resistance import ResistanceReference

__all__ = [
    "GeneModel",
    "ReferenceGenes",
    "codon_table",
    "reference_genes",
    "reverse_complement",
    "translate",
]


@cache
def codon_table() -> Mapping[str, str]:
    """The standard genetic code (NCBI table 1) as Biopython ships it, stops as ``*``. Loaded on
    first use: ``Bio.Data.CodonTable`` builds every NCBI table at import (~0.1 s)."""
    from Bio.Data.CodonTable import unambiguous_dna_by_id

    standard = unambiguous_dna_by_id[1]
    return {**standard.forward_table, **dict.fromkeys(standard.stop_codons, "*")}


_COMPLEMENT = str.maketrans("ACGTNRYKMSWBDHVacgtnrykmswbdhv-", "TGCANYRMKSWVHDBtgcanyrmkswvhdb-")


def reverse_complement(sequence: str) -> str:
    return sequence.translate(_COMPLEMENT)[::-1]


def translate(sequence: str) -> str:
    """Standard-code translation of whole codons; a codon with a non-ACGT base gives ``X``."""
    table = codon_table()
    return "".join(table.get(sequence[i : i + 3], "X") for i in range(0, len(sequence) - 2, 3))


@dataclass(frozen=True)
class GeneModel:
    """One gene: ``cds`` in coding orientation, ``protein`` without its stop."""

    name: str
    strand: str
    exons: tuple[tuple[int, int], ...]
    cds: str
    protein: str

    @property
    def codons(self) -> int:
        return len(self.protein)

    def exon_sequences(self) -> tuple[tuple[int, str], ...]:
        """(coding offset, coding sequence) of each exon, in coding order."""
        parts = []
        offset = 0
        for start, end in self.exons:
            length = end - start + 1
            parts.append((offset, self.cds[offset : offset + length]))
            offset += length
        return tuple(parts)

    def coding_index(self, position: int) -> int | None:
        """0-based coding position of genome ``position`` (1-based), or None outside the CDS."""
        offset = 0
        for start, end in self.exons:
            if start <= position <= end:
                return offset + (position - start if self.strand == "+" else end - position)
            offset += end - start + 1
        return None

    def span(self) -> tuple[int, int]:
        return min(s for s, _ in self.exons), max(e for _, e in self.exons)


@dataclass(frozen=True)
class ReferenceGenes:
    accession: str
    genes: Mapping[str, GeneModel]
    genome_length: int | None = None

    def gene(self, name: str) -> GeneModel:
        try:
            return self.genes[name]
        except KeyError:
            known = ", ".join(self.genes)
            raise KnowledgeError(f"no reference for gene {name!r} (known: {known})") from None


def reference_genes(knowledge: Knowledge) -> ReferenceGenes:
    """The gene models of ``knowledge`` (memoised by the pack's SHA-256)."""
    cached = _BUILT.get(knowledge.sha256)
    if cached is None:
        cached = _build(knowledge.table("resistance_reference", ResistanceReference))
        _BUILT[knowledge.sha256] = cached
    return cached


_BUILT: dict[str, ReferenceGenes] = {}  # memo of a pure function of the (immutable) pack


def _build(reference: ResistanceReference) -> ReferenceGenes:
    genes = {}
    for name, gene in reference.genes.items():
        protein = translate(gene.cds)
        genes[name] = GeneModel(name, gene.strand, gene.exons, gene.cds, protein.rstrip("*"))
    return ReferenceGenes(reference.accession, genes, reference.genome_length)
