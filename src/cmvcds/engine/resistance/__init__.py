"""Resistance genotype interpretation (issue 7): mutation lists, FASTA and VCF → per-drug levels.

Public API (pure; the caller reads files and passes their text; ``virus`` is ``cmv`` (default),
``hsv1``, ``hsv2`` or ``vzv``, see :mod:`viruses`):

    interpret_mutations(["UL97:M460V"], genes_tested=None, knowledge, virus="cmv") -> ResistanceReport
    interpret_fasta(text, knowledge, virus="cmv") -> ResistanceReport
    interpret_vcf(text, knowledge, threshold=0.10, sample=None, virus="cmv", min_depth=None)
        -> ResistanceReport
    interpret_vcf_samples(text, knowledge, virus="cmv") -> {sample: ResistanceReport}
    read_upload(data) -> ("vcf" | "fasta", text)   # gzip and format told from the bytes
    report.to_dict()  # the cmvcds-resistance/1 JSON object

Modules: ``mutations`` (notation), ``genes`` (reference), ``alignment`` (FASTA), ``vcf``
(reading), ``haplotypes`` (NGS variants → changes),
``codons`` (translation of an alignment), ``inputs`` (what an upload is), ``levels`` and
``report`` (interpretation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cmvcds.engine.resistance.codons import MIXTURE_FREQUENCY, Call, call_changes, covered_codons
from cmvcds.engine.resistance.genes import reference_genes
from cmvcds.engine.resistance.haplotypes import vcf_calls
from cmvcds.engine.resistance.inputs import read_upload
from cmvcds.engine.resistance.levels import Level, MutationStatus
from cmvcds.engine.resistance.mutations import parse_change_id, read_mutation_list
from cmvcds.engine.resistance.report import (
    FORMAT,
    Contribution,
    DrugCall,
    GeneCoverage,
    Genotype,
    MutationFinding,
    ResistanceReport,
    default_min_depth,
    default_threshold,
    interpret,
)
from cmvcds.engine.resistance.vcf import vcf_samples
from cmvcds.engine.resistance.viruses import DEFAULT_VIRUS, VIRUSES, virus_tables
from cmvcds.errors import SequenceInputError
from cmvcds.knowledge import Knowledge

__all__ = [
    "FORMAT",
    "VIRUSES",
    "Call",
    "Contribution",
    "DrugCall",
    "GeneCoverage",
    "Genotype",
    "Level",
    "MutationFinding",
    "MutationStatus",
    "ResistanceReport",
    "interpret",
    "interpret_fasta",
    "interpret_mutations",
    "interpret_vcf",
    "interpret_vcf_samples",
    "read_upload",
    "vcf_samples",
]


def _threshold(knowledge: Knowledge, threshold: float | None) -> float:
    value = default_threshold(knowledge) if threshold is None else threshold
    if not 0 < value <= 1:
        raise SequenceInputError(
            f"reporting threshold {value} must lie in (0, 1], e.g. 0.10 for 10%"
        )
    return value


def _genes(knowledge: Knowledge, names: Sequence[str], virus: str) -> tuple[str, ...]:
    known = reference_genes(knowledge, virus).genes
    result = []
    for name in names:
        gene = name.strip().upper()
        if gene not in known:
            raise SequenceInputError(
                f"genes tested: {name!r} is not a {virus_tables(virus).name} resistance gene "
                f"({', '.join(known)})"
            )
        if gene not in result:
            result.append(gene)
    return tuple(result)


def _listed_positions(gene: str, ids: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """The codons a mutation list speaks about in ``gene``: those of its changes, nothing more.
    A list names what was found, not what was read (issue 18): the extent sequenced is unknown,
    so the report never shows a listed gene as covered end to end (basis ``listed``)."""
    spans = sorted(
        {(c.start, c.end) for c in map(parse_change_id, ids) if c.gene == gene},
    )
    return tuple(spans)


def interpret_mutations(
    mutations: Sequence[str] | str,
    genes_tested: Sequence[str] | None,
    knowledge: Knowledge,
    *,
    threshold: float | None = None,
    virus: str = DEFAULT_VIRUS,
) -> ResistanceReport:
    """The report for a mutation list; genes tested default to the genes of the listed mutations."""
    genes = reference_genes(knowledge, virus)
    read = read_mutation_list(mutations, genes)
    ids, repeated, synonymous = read.ids, read.repeated, read.synonymous
    tested = (
        _genes(knowledge, genes_tested, virus)
        if genes_tested is not None
        else _genes(knowledge, [m.partition(":")[0] for m in (*ids, *synonymous)], virus)
    )
    outside = [m for m in ids if m.partition(":")[0] not in tested]
    if outside:
        raise SequenceInputError(
            f"mutations {', '.join(outside)} lie in genes not listed as tested"
        )
    coverage = tuple(GeneCoverage(g, _listed_positions(g, ids), "listed") for g in tested)
    conflicts = _one_codon(ids, read.mixtures)
    mixed = set(read.mixtures) | {m for group in conflicts for m in group}
    written: dict[str, list[str]] = {}
    for m, text in read.mixtures.items():
        written.setdefault(text, []).append(m)
    warnings = (
        tuple(
            f"{m} was listed {len(texts)} times ({'; '.join(repr(t) for t in texts)}); counted once"
            for m, texts in repeated.items()
        )
        + tuple(
            f"{m} is synonymous (no amino-acid change): it has no effect on any drug"
            for m in synonymous
        )
        + tuple(
            f"{text!r} read as a mixture: {', '.join(found)}"
            + (", each" if len(found) > 1 else "")
            + " present in part of the population (proportion not given); the drug calls "
            "they drive are flagged"
            for text, found in written.items()
        )
        + tuple(
            f"{' and '.join(group)} are listed at one codon: a genome carries one residue there, "
            "so they cannot all be at 100 %: a mixture of populations (proportions not given), or "
            "an error in the report. Each is read as present in part of the population and the "
            "drug calls they drive are flagged; confirm with the laboratory (a mixture is written "
            f"{_mixture_text(group)})"
            for group in conflicts
        )
    )
    genotype = Genotype(
        # a listed change is present as the laboratory reported it: frequency 1.0 in the JSON
        # (design.md's contract), shown as "listed", never as a measured 100 %; a mixture's
        # changes give no frequency (null) and are marked so
        calls=tuple(
            Call(m, None, "mixture") if m in mixed else Call(m, 1.0, None) for m in ids
        ),
        genes_tested=tested,
        coverage=coverage,
        threshold=_threshold(knowledge, threshold),
        warnings=warnings,
    )
    return interpret(genotype, knowledge, virus)


def _one_codon(ids: Sequence[str], mixtures: Mapping[str, str]) -> list[tuple[str, ...]]:
    """Groups of listed substitutions to different residues at one codon not written as one
    mixture (``UL97:A594V`` and ``UL97:A594T``): a conflict (probe15 A6)."""
    by_codon: dict[tuple[str, int], list[str]] = {}
    for m in ids:
        change = parse_change_id(m)
        if change.kind == "sub":
            by_codon.setdefault((change.gene, change.start), []).append(m)

    def one_mixture(group: list[str]) -> bool:
        texts = {mixtures.get(m) for m in group}
        return len(texts) == 1 and None not in texts

    return [tuple(g) for g in by_codon.values() if len(g) > 1 and not one_mixture(g)]


def _mixture_text(group: Sequence[str]) -> str:
    """``UL97:A594V/T`` for the group ``UL97:A594V``, ``UL97:A594T``."""
    first = group[0]
    return first + "".join("/" + m[-1] for m in group[1:])


def interpret_fasta(
    text: str,
    knowledge: Knowledge,
    *,
    genes_tested: Sequence[str] | None = None,
    virus: str = DEFAULT_VIRUS,
) -> ResistanceReport:
    """The report for FASTA text (a gene, amplicons or a whole genome, either orientation)."""
    genes = reference_genes(knowledge, virus)
    # Biopython's aligner (and numpy) load only when a sequence is aligned: the CLI and the
    # treatment pathways import this package and should not pay for them.
    from cmvcds.engine.resistance.alignment import align_fasta

    aligned = align_fasta(text, genes)
    calls: list[Call] = []
    coverage = []
    for name in genes.genes:
        if name not in aligned:
            continue
        intervals = tuple(covered_codons(aligned[name]))
        if intervals:
            coverage.append(GeneCoverage(name, intervals, "sequence"))
            calls.extend(call_changes(genes.gene(name), aligned[name]))
    tested = tuple(c.gene for c in coverage)
    if genes_tested is not None:
        declared = _genes(knowledge, genes_tested, virus)
        tested = tuple(g for g in tested if g in declared)
    warnings = [] if coverage else ["no resistance gene was found in the FASTA input"]
    mixtures = [c.id for c in calls if c.frequency is MIXTURE_FREQUENCY]
    if mixtures:
        warnings.append(
            "mixed bases (IUPAC codes) read as mixtures, proportion not given (frequency not "
            f"given; the drug calls they drive are flagged): {', '.join(mixtures)}"
        )
    genotype = Genotype(
        calls=tuple(calls),
        genes_tested=tested,
        coverage=tuple(c for c in coverage if c.gene in tested),
        threshold=_threshold(knowledge, None),
        warnings=tuple(warnings),
        source="fasta",
    )
    return interpret(genotype, knowledge, virus)


def _minimum_depth(knowledge: Knowledge, min_depth: int | None) -> int:
    value = default_min_depth(knowledge) if min_depth is None else min_depth
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SequenceInputError(f"minimum depth {value!r} must be a whole number of reads >= 1")
    return value


def _without(
    intervals: tuple[tuple[int, int], ...], codons: set[int]
) -> tuple[tuple[int, int], ...]:
    """``intervals`` with ``codons`` taken out."""
    result: list[tuple[int, int]] = []
    for lo, hi in intervals:
        start = lo
        for codon in sorted(c for c in codons if lo <= c <= hi):
            if codon > start:
                result.append((start, codon - 1))
            start = codon + 1
        if start <= hi:
            result.append((start, hi))
    return tuple(result)


def interpret_vcf(
    text: str,
    knowledge: Knowledge,
    *,
    threshold: float | None = None,
    genes_tested: Sequence[str] | None = None,
    sample: str | None = None,
    virus: str = DEFAULT_VIRUS,
    min_depth: int | None = None,
) -> ResistanceReport:
    """The report for one sample of a VCF against the virus's reference (HCMV NC_006273.2;
    ``sample`` names it when the VCF holds several: never the first one silently). Genes tested
    default to genes with a record, whose extent read is then unknown (a VCF lists variants, not
    the codons read): no drug of those genes is called susceptible. A variant read at fewer than
    ``min_depth`` reads (default: the pack's reference default) is not called, and its codon is
    not assessable (ADR 0033-fix15a)."""
    genes = reference_genes(knowledge, virus)
    limit = _threshold(knowledge, threshold)
    depth = _minimum_depth(knowledge, min_depth)
    result = vcf_calls(text, genes, limit, genes.genome_length, sample, depth)
    if genes_tested is not None:
        tested = _genes(knowledge, genes_tested, virus)
        basis = "declared"
    else:
        tested = tuple(g for g in genes.genes if g in result.genes_seen)
        basis = "variants"
    warnings = list(result.warnings)
    ignored = sorted(result.genes_seen - set(tested))
    if ignored:
        warnings.append(
            f"variants in genes not declared as tested were left out: {', '.join(ignored)}"
        )
    if genes_tested is None:
        warnings.append(
            "genes tested were taken to be those with a VCF record in their coding sequence, "
            "and which of their codons were read is not known (a VCF lists variants, not the "
            "codons read): no drug is called susceptible from it. Declare the genes the assay "
            "covers (--genes-tested) to assess them"
        )
    if result.outside:
        where = ", ".join(result.outside_at) + (
            " …" if result.outside > len(result.outside_at) else ""
        )
        warnings.append(
            f"outside the genes read for resistance ({', '.join(genes.genes)}): "
            f"{result.outside} variant record(s), not interpreted (POS {where})"
        )
    shallow = [c for c in result.low_depth if c.id.partition(":")[0] in tested]
    if shallow:
        warnings.append(
            "; ".join(
                f"{c.id}: depth {c.depth} below the minimum {depth}: not called" for c in shallow
            )
        )
    if result.depth_not_given:
        warnings.append(
            f"{result.depth_not_given} variant(s) in the resistance genes come with no read depth "
            f"(no DP, AD, DP4 or iVar counts): the minimum depth of {depth} reads could not be "
            "checked for them"
        )
    warnings.append(
        f"minimum read depth {depth} reads"
        + (
            " (cmvcds reference default: no guideline sets one; a site sets its own with the "
            "minimum depth setting: --min-depth, API min_depth)"
            if min_depth is None
            else " (set for this run)"
        )
    )
    low_codons: dict[str, set[int]] = {}
    for c in shallow:
        change = parse_change_id(c.id)
        low_codons.setdefault(change.gene, set()).update(range(change.start, change.end + 1))
    coverage = tuple(
        GeneCoverage(
            g,
            _without(((1, genes.gene(g).codons),), low_codons.get(g, set()))
            if basis == "declared"
            else (),
            basis,
        )
        for g in tested
    )
    genotype = Genotype(
        calls=tuple(c for c in result.calls if c.id.partition(":")[0] in tested),
        genes_tested=tested,
        coverage=coverage,
        threshold=limit,
        minority=tuple(c for c in result.minority if c.id.partition(":")[0] in tested),
        warnings=tuple(warnings),
        source="vcf",
        min_depth=depth,
        low_depth=tuple(shallow),
        no_depth=frozenset(result.no_depth),
    )
    return interpret(genotype, knowledge, virus)


def interpret_vcf_samples(
    text: str,
    knowledge: Knowledge,
    *,
    threshold: float | None = None,
    genes_tested: Sequence[str] | None = None,
    virus: str = DEFAULT_VIRUS,
    min_depth: int | None = None,
) -> dict[str, ResistanceReport]:
    """One report per sample of a VCF (its ``#CHROM`` names), in the file's order; a VCF with
    one sample or none gives one report under its name (or ``""``)."""
    names = vcf_samples(text)
    if len(names) <= 1:
        report = interpret_vcf(
            text,
            knowledge,
            threshold=threshold,
            genes_tested=genes_tested,
            virus=virus,
            min_depth=min_depth,
        )
        return {names[0] if names else "": report}
    return {
        name: interpret_vcf(
            text,
            knowledge,
            threshold=threshold,
            genes_tested=genes_tested,
            sample=name,
            virus=virus,
            min_depth=min_depth,
        )
        for name in names
    }
