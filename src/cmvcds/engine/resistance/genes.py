"""The resistance genes of a virus's reference genome as the engine uses them.

Built once per knowledge pack and virus from its reference table (HCMV: ``resistance_reference``,
Merlin NC_006273.2; HSV-1, HSV-2, VZV: :mod:`viruses`): coding sequence, protein, exons and the
mapping between genome coordinates (1-based) and coding positions (0-based).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from cmvcds.engine.resistance.viruses import DEFAULT_VIRUS, virus_tables
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
    strain: str = "Merlin"

    @property
    def label(self) -> str:
        """How input errors name the reference: ``the Merlin reference (NC_006273.2)``."""
        return f"the {self.strain} reference ({self.accession})"

    def gene(self, name: str) -> GeneModel:
        try:
            return self.genes[name]
        except KeyError:
            known = ", ".join(self.genes)
            raise KnowledgeError(f"no reference for gene {name!r} (known: {known})") from None


def reference_genes(knowledge: Knowledge, virus: str = DEFAULT_VIRUS) -> ReferenceGenes:
    """The gene models of ``virus`` in ``knowledge`` (memoised by the pack's SHA-256)."""
    key = (knowledge.sha256, virus)
    cached = _BUILT.get(key)
    if cached is None:
        tables = virus_tables(virus)
        cached = _build(knowledge.table(tables.reference, ResistanceReference), tables.strain)
        _BUILT[key] = cached
    return cached


_BUILT: dict[tuple[str, str], ReferenceGenes] = {}  # memo of a pure function of the pack


def _build(reference: ResistanceReference, strain: str) -> ReferenceGenes:
    genes = {}
    for name, gene in reference.genes.items():
        protein = translate(gene.cds)
        genes[name] = GeneModel(name, gene.strand, gene.exons, gene.cds, protein.rstrip("*"))
    return ReferenceGenes(reference.accession, genes, reference.genome_length, strain)
