"""Fixtures of the resistance tests: the reference genes, and inputs made from them.

Every FASTA and VCF is generated here from the shipped Merlin coding sequences (mutated where a
test says so); nothing is downloaded. ``genome()`` is a stand-in for a whole genome: random DNA
of the Merlin length with each resistance gene at its Merlin coordinates and strand.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping

import pytest

from cmvcds.engine.resistance.genes import (
    GeneModel,
    ReferenceGenes,
    reference_genes,
    reverse_complement,
)
from cmvcds.knowledge import Knowledge, load_knowledge

VCF_HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=NC_006273.2,length=235646>\n"
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tsample\n"
)


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge(os.environ.get("CMVCDS_KNOWLEDGE") or None)


@pytest.fixture(scope="session")
def genes(knowledge: Knowledge) -> ReferenceGenes:
    return reference_genes(knowledge)


def mutate(gene: GeneModel, codons: Mapping[int, str]) -> str:
    """The gene's coding sequence with residue ``n`` (1-based) replaced by ``codons[n]`` ("" deletes)."""
    cds = gene.cds
    for residue in sorted(codons, reverse=True):
        start = 3 * (residue - 1)
        cds = cds[:start] + codons[residue] + cds[start + 3 :]
    return cds


def codon(gene: GeneModel, residue: int) -> str:
    return gene.cds[3 * (residue - 1) : 3 * residue]


def position(gene: GeneModel, index: int) -> int:
    """Genome position (1-based) of coding index ``index`` (0-based)."""
    offset = 0
    for start, end in gene.exons:
        length = end - start + 1
        if index < offset + length:
            k = index - offset
            return start + k if gene.strand == "+" else end - k
        offset += length
    raise IndexError(index)


def genome_base(gene: GeneModel, index: int) -> str:
    base = gene.cds[index]
    return base if gene.strand == "+" else reverse_complement(base)


def genome(genes: ReferenceGenes, replace: Mapping[str, str] | None = None, seed: int = 7) -> str:
    """A whole-genome stand-in; ``replace`` gives mutated coding sequences (same length) per gene."""
    rng = random.Random(seed)
    sequence = [rng.choice("ACGT") for _ in range(235_646)]
    for name, model in genes.genes.items():
        cds = (replace or {}).get(name, model.cds)
        assert len(cds) == len(model.cds), "genome() takes substitutions only"
        for index, base in enumerate(cds):
            sequence[position(model, index) - 1] = (
                base if model.strand == "+" else reverse_complement(base)
            )
    return "".join(sequence)


def fasta(*records: tuple[str, str], width: int = 70) -> str:
    lines = []
    for name, sequence in records:
        lines.append(f">{name}")
        lines += [sequence[i : i + width] for i in range(0, len(sequence), width)]
    return "\n".join(lines) + "\n"


def vcf_line(
    pos: int,
    ref: str,
    alt: str,
    info: str = ".",
    fmt: str = "",
    sample: str = "",
    filt: str = "PASS",
) -> str:
    cols = ["NC_006273.2", str(pos), ".", ref, alt, "60", filt, info]
    if fmt:
        cols += [fmt, sample]
    return "\t".join(cols)


def vcf(*lines: str) -> str:
    return VCF_HEADER + "\n".join(lines) + "\n"


def snv(
    gene: GeneModel, residue: int, base_in_codon: int, alt_coding_base: str, af: float | None = None
) -> str:
    """A VCF line changing base ``base_in_codon`` (0-2) of ``residue`` to ``alt_coding_base`` (coding strand)."""
    index = 3 * (residue - 1) + base_in_codon
    alt = alt_coding_base if gene.strand == "+" else reverse_complement(alt_coding_base)
    info = f"AF={af}" if af is not None else "."
    return vcf_line(position(gene, index), genome_base(gene, index), alt, info)
