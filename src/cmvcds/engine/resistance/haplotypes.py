"""NGS variants of one sample → amino-acid changes, read as haplotypes (issue 18).

**Which variants share a genome (the haplotype rule).** A VCF gives each allele's frequency in the
viral population, not which alleles sit on the same genome. Two variants of frequencies f1 and f2
*must* share genomes when f1 + f2 > 1 (at least f1 + f2 − 1 of them: pigeonhole); when
f1 + f2 ≤ 1 nothing in the data says they do, and two alleles of one position never do (a genome
has one base there). Hence:

1. the *majority haplotype* holds every variant above ``CONSENSUS`` (50 %): any two of them sum
   to more than 1, so they are linked, and they are applied together (several changes in one
   codon make one codon change: TGC→GGA at UL97 592 is C592G, not C592G plus a stop); a change's
   frequency is the lowest of its variants' (the most the linked genomes can be);
2. every other variant at or above the reporting threshold is translated as its own haplotype,
   its frequency its own, carrying those majority variants it must share genomes with (sum of
   the two frequencies above 1) and no other: G>A 45 % + C>T 55 % at UL97 594 are
   A594T and A594V, never the invented A594M, and A>G 60 % + A>C 30 % at UL97 460 are M460V and
   M460L whatever the record order or the record form (multi-allelic or split);
3. variants the VCF phases (``GT`` with ``|``, same ``PS``, allele on the same side) are one
   haplotype whatever their frequencies; phase on opposite sides keeps them apart;
4. a frameshift outside the majority haplotype is reported (``fsN`` at its frequency, with a
   warning) and never changes the reading frame in which the majority haplotype is read: a
   15 % insertion cannot hide M460V at 100 % ten codons downstream.

When two variants of one codon are read apart but would make another change on one genome, a
warning names that reading (not called). The same change reached by several separate haplotypes
is reported once, frequencies added. Each variant below the threshold is translated alone (with
the majority variants it must share genomes with) and listed as a minority variant; it never
drives a call alone, but the threshold applies to the amino-acid change, not to the base: the
variants giving one change are added up first (143177 G>A and G>T, 6 % each, are M460I at 12 %:
:func:`_pooled`, review23c). Assumption stated: variants of the majority haplotype
are nested (three variants at 60 % in one codon are read as one haplotype, as is the common
reading of consensus calls), which can overstate the frequency of a majority change sharing a
codon with a separate haplotype by that haplotype's share; it never drops or invents a change.

**A variant whose frequency the VCF does not give** (no AF, FREQ, AD or DP4) is never given one
(ADR 0031-fix10c): it is not known to be above 50 %, so it is not in the majority haplotype; it is
read as its own haplotype (shares genomes with nothing it is not phased with), is called (present,
as the record says: a resistance mutation is not dropped for want of a number), and its change
carries frequency ``None``; the report flags every drug call it affects.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter

from cmvcds.engine.resistance.codons import MAX_WINDOW, Call, LowDepth, call_changes
from cmvcds.engine.resistance.genes import GeneModel, ReferenceGenes, reverse_complement
from cmvcds.engine.resistance.mutations import parse_change_id
from cmvcds.engine.resistance.vcf import Variant, parse_vcf
from cmvcds.errors import SequenceInputError

__all__ = ["CONSENSUS", "VcfCalls", "vcf_calls"]

#: Above this frequency a variant belongs to the majority haplotype (see the module doc).
CONSENSUS = 0.5


@dataclass
class VcfCalls:
    calls: list[Call] = field(default_factory=list)
    minority: list[Call] = field(default_factory=list)
    genes_seen: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    #: changes of variants read at fewer reads than the minimum depth (not called)
    low_depth: list[LowDepth] = field(default_factory=list)
    #: records outside the coding sequences of the genes read: their number, the first POS
    outside: int = 0
    outside_at: list[str] = field(default_factory=list)
    depth_not_given: int = 0  # variants in the genes whose record gives no read depth
    #: called changes resting on a variant whose record gives no read depth (review23c 7)
    no_depth: set[str] = field(default_factory=set)


Edits = list[tuple[str, int, str]]  # (kind, coding index, bases): sub, del, ins (after index)


def _edits(gene: GeneModel, variant: Variant) -> Edits:
    ref, alt, pos = variant.ref, variant.alt, variant.position
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while ref and alt and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    edits: Edits = []
    minus = gene.strand == "-"
    shared = min(len(ref), len(alt))
    for k in range(shared):
        index = gene.coding_index(pos + k)
        if index is not None and ref[k] != alt[k]:
            edits.append(("sub", index, reverse_complement(alt[k]) if minus else alt[k]))
    for k in range(shared, len(ref)):
        index = gene.coding_index(pos + k)
        if index is not None:
            edits.append(("del", index, ""))
    if len(alt) > shared:
        inserted = alt[shared:]
        left, right = pos + shared - 1, pos + shared  # inserted between these genome positions
        anchor = gene.coding_index(right if minus else left)
        other = gene.coding_index(left if minus else right)
        if anchor is not None and other is not None:
            edits.append(("ins", anchor, reverse_complement(inserted) if minus else inserted))
    return edits


def _check_ref(gene: GeneModel, variant: Variant, accession: str) -> None:
    for k, base in enumerate(variant.ref):
        index = gene.coding_index(variant.position + k)
        if index is None:
            continue
        expected = gene.cds[index] if gene.strand == "+" else reverse_complement(gene.cds[index])
        if base != expected:
            raise SequenceInputError(
                f"VCF line {variant.line}: REF {variant.ref} at {variant.position} does not match "
                f"{accession} ({gene.name}); was the VCF called against another reference?"
            )


def _apply(aligned: list[str], edits: Edits) -> set[int]:
    codons = set()
    for kind, index, bases in edits:
        if kind == "sub":
            aligned[index] = bases + aligned[index][1:]
        elif kind == "del":
            aligned[index] = aligned[index][1:]
        else:
            aligned[index] = aligned[index] + bases
        codons.add(index // 3)
    return codons


def vcf_calls(
    text: str,
    genes: ReferenceGenes,
    threshold: float,
    genome_length: int | None = None,
    sample: str | None = None,
    min_depth: int | None = None,
) -> VcfCalls:
    """The calls of one sample of a VCF, gene by gene (see the module doc for the haplotypes).
    A variant whose site was read at fewer than ``min_depth`` reads is not called: its change
    is listed in ``low_depth`` (ADR 0033-fix15a)."""
    spans = {name: model.span() for name, model in genes.genes.items()}
    read = parse_vcf(
        text, genes.accession, genome_length=genome_length, spans=spans.values(), sample=sample
    )
    variants = read.variants
    result = VcfCalls(warnings=read.warnings, outside=read.outside)
    result.outside_at.extend(read.outside_at)
    by_position = sorted(variants, key=attrgetter("position"))
    starts = [v.position for v in by_position]
    longest = max((len(v.ref) for v in variants), default=1)
    used: set[Variant] = set()
    for name, model in genes.genes.items():
        lo, hi = spans[name]
        window = by_position[bisect_left(starts, lo - longest + 1) : bisect_right(starts, hi)]
        here = [
            v
            for v in window
            if v.position + len(v.ref) - 1 >= lo
            and any(model.coding_index(v.position + k) is not None for k in range(len(v.ref)))
        ]
        if not here:
            continue
        here.sort(key=attrgetter("line"))  # record order: the first REF mismatch is named
        result.genes_seen.add(name)
        used.update(here)
        for variant in here:
            _check_ref(model, variant, genes.accession)
        shallow = [
            v for v in here if min_depth is not None and v.depth is not None and v.depth < min_depth
        ]
        result.depth_not_given += sum(v.depth is None for v in here)
        _gene_calls(model, [v for v in here if v not in shallow], threshold, result, shallow)
    if len(used) < len(variants):  # in a gene's span (or its margin) but not in its coding bases
        unused = [v for v in variants if v not in used]
        result.outside += len(unused)
        result.outside_at = sorted([*read.outside_at, *(str(v.position) for v in unused)], key=int)[
            :5
        ]
    return result


def _majority(variants: list[Variant], result: VcfCalls) -> tuple[list[Variant], list[Variant]]:
    """The variants of the majority haplotype (one allele per position) and the others."""
    majority: list[Variant] = []
    others: list[Variant] = []
    taken: dict[int, Variant] = {}
    for variant in sorted(variants, key=lambda v: (-_known(v), v.position, v.alt)):
        if variant.frequency is None:
            others.append(variant)
            continue
        if variant.frequency > CONSENSUS and variant.position not in taken:
            taken[variant.position] = variant
            majority.append(variant)
            continue
        if variant.frequency > CONSENSUS:
            result.warnings.append(
                f"VCF lines {taken[variant.position].line} and {variant.line}: alleles at "
                f"{variant.position} have frequencies summing to more than 1; the more frequent "
                "is read as the majority, the other as a separate haplotype"
            )
        others.append(variant)
    return majority, others


def _known(variant: Variant) -> float:
    """The frequency to order by: a frequency not given sorts last (it is never a majority)."""
    return -1.0 if variant.frequency is None else variant.frequency


def _sum(*frequencies: float | None) -> float | None:
    """The sum of frequencies, ``None`` when one is not given."""
    known = [f for f in frequencies if f is not None]
    return sum(known) if len(known) == len(frequencies) else None


def _percent(frequency: float | None) -> str:
    return "frequency not given" if frequency is None else f"{frequency:.0%}"


def _translate(
    model: GeneModel, scratch: list[str], background: Iterable[Edits], own: Iterable[Edits]
) -> list[Call]:
    """The changes of one haplotype in the codons of its ``own`` edits, read with the
    ``background`` edits it carries: applied to ``scratch`` (the reference), translated, and
    undone (one scratch alignment per gene instead of a copy per haplotype). Only background
    edits inside the bases those codons can be read with (an indel's window of ``MAX_WINDOW``
    codons included) are applied: no other base is read."""
    own = list(own)
    codons = {index // 3 for edit in own for _, index, _ in edit}
    if not codons:
        return []
    low, high = 3 * min(codons), 3 * (max(codons) + MAX_WINDOW + 1)
    near = [e for e in background if any(low <= index < high for _, index, _ in e)]
    saved: dict[int, str] = {}
    for edit in (*near, *own):
        for _, index, _ in edit:
            saved.setdefault(index, scratch[index])
        _apply(scratch, edit)
    try:
        return call_changes(model, scratch, codons)
    finally:
        for index, value in saved.items():
            scratch[index] = value


def _gene_calls(
    model: GeneModel,
    variants: Iterable[Variant],
    threshold: float,
    result: VcfCalls,
    shallow: Iterable[Variant] = (),
) -> None:
    ordered = sorted(variants, key=lambda v: (v.position, v.ref, v.alt))  # record order is moot
    shallow = sorted(shallow, key=lambda v: (v.position, v.ref, v.alt))
    edits = {v: _edits(model, v) for v in (*ordered, *shallow)}
    majority, others = _majority(
        [v for v in ordered if v.frequency is None or v.frequency >= threshold], result
    )
    scratch = list(model.cds)
    aligned = list(model.cds)
    frequencies: dict[int, float] = {}
    touched: set[int] = set()
    for variant in majority:
        assert variant.frequency is not None  # a majority variant has one (> 50 %)
        touched |= _apply(aligned, edits[variant])
        for _, index, _ in edits[variant]:
            frequencies[index] = min(variant.frequency, frequencies.get(index, 1.0))
    calls = call_changes(model, aligned, touched, frequencies) if touched else []
    majority_ids = {c.id for c in calls}
    shallow_codons = {i // 3 for v in majority if v.depth is None for _, i, _ in edits[v]}
    for c in calls if shallow_codons else ():
        change = parse_change_id(c.id)
        if any(k - 1 in shallow_codons for k in range(change.start, change.end + 1)):
            result.no_depth.add(c.id)
    found: dict[str, Call] = {c.id: Call(c.id, c.frequency, "majority") for c in calls}
    phased: dict[tuple[str, int], list[Variant]] = {}
    for variant in others:
        if variant.phase is not None:
            phased.setdefault(variant.phase, []).append(variant)
    groups = [("separate", [v]) for v in others if v.phase is None]
    groups += [(f"phased:{key[0]}", group) for key, group in phased.items()]

    def haplotype(group: list[Variant], frequency: float | None) -> list[Call]:
        """The group's changes, carrying the majority variants it must share genomes with."""
        linked = (  # a frequency not given shows no link; a majority variant has one
            [edits[m] for m in majority if m.frequency + frequency > 1]  # type: ignore[operator]
            if frequency is not None
            else []
        )
        return _translate(model, scratch, linked, [edits[v] for v in group])

    for label, group in groups:
        given = [v.frequency for v in group if v.frequency is not None]
        frequency = min(given) if len(given) == len(group) else None
        for call in haplotype(group, frequency):
            if call.id in majority_ids:
                continue
            if any(v.depth is None for v in group):
                result.no_depth.add(call.id)
            known = found.get(call.id)
            total = _sum(frequency, known.frequency if known else 0.0)
            total = None if total is None else min(1.0, total)
            found[call.id] = Call(call.id, total, label if known is None else known.haplotype)
            if ":fs" in call.id:
                result.warnings.append(
                    f"frameshift {call.id} ({_percent(frequency)}) lies outside the majority "
                    f"haplotype (not shown above {CONSENSUS:.0%}): reported as such; the majority "
                    "is read in its own reading frame"
                )
    # each variant below the threshold translated alone (with the majority variants it must
    # share genomes with): its changes, added up per change before the threshold (_pooled)
    alone = {
        v: haplotype([v], v.frequency)
        for v in ordered
        if v.frequency is not None and v.frequency < threshold and edits[v]
    }
    pooled = _pooled(alone, found, majority_ids, threshold)
    for pooled_id, group in pooled.items():
        known = found.get(pooled_id)
        total = sum(v.frequency or 0.0 for v in group) + (known.frequency or 0.0 if known else 0.0)
        found[pooled_id] = Call(
            pooled_id, min(1.0, total), known.haplotype if known else "separate"
        )
        if any(v.depth is None for v in group):
            result.no_depth.add(pooled_id)
    result.calls.extend(sorted(found.values(), key=lambda c: parse_change_id(c.id).start))
    pooled_variants = [v for v in alone if any(v in group for group in pooled.values())]
    _unlinked_readings(
        [*majority, *others, *pooled_variants], edits, found, haplotype, result, model.name
    )
    listed = {m.id for m in result.minority}
    for variant, changes in alone.items():
        for call in changes:
            if call.id not in found and call.id not in listed:
                listed.add(call.id)
                result.minority.append(Call(call.id, variant.frequency))
    for variant in shallow:
        assert variant.depth is not None  # shallow: a depth below the minimum
        for call in haplotype([variant], variant.frequency):
            result.low_depth.append(LowDepth(call.id, variant.frequency, variant.depth))


def _pooled(
    alone: Mapping[Variant, list[Call]],
    found: Mapping[str, Call],
    majority_ids: set[str],
    threshold: float,
) -> dict[str, list[Variant]]:
    """The changes that variants below the threshold reach the threshold with, added up over
    every variant giving them (review23c 2), and those variants: 143177 G>A and G>T at 6 % each
    are both M460I (ATA, ATT), so 12 % of the reads carry M460I, above a 10 % threshold; tested
    one by one neither would be. The threshold applies to the change, not to the base. A change
    already called from a separate haplotype above the threshold adds its frequency (150 + 50 of
    1000 reads: 20 %); one of the majority haplotype, or one whose frequency is not given (called
    already), is left as it is. Only the pooled change is called from those variants: any other
    change of theirs stays a minority one."""
    by_change: dict[str, list[Variant]] = {}
    for variant, changes in alone.items():
        for call in changes:
            if call.id not in majority_ids:
                by_change.setdefault(call.id, []).append(variant)
    pooled: dict[str, list[Variant]] = {}
    for change, group in by_change.items():
        known = found.get(change)
        if known is not None and known.frequency is None:
            continue  # called already, frequency not given
        total = sum(v.frequency or 0.0 for v in group) + (known.frequency or 0.0 if known else 0.0)
        if (len(group) > 1 or known is not None) and total >= threshold - 1e-9:
            pooled[change] = group
    return pooled


def _unlinked_readings(
    called: list[Variant],
    edits: Mapping[Variant, Edits],
    found: dict[str, Call],
    haplotype: Callable[[list[Variant], float | None], list[Call]],
    result: VcfCalls,
    gene: str,
) -> None:
    """Say so when two variants of one codon were read apart (frequencies summing to <= 1, no
    phase joining them) and would make another change on one genome: the report names the
    reading it did not call, so that a lab can confirm by phasing (A594T + A594V, not A594M)."""
    by_codon: dict[int, list[Variant]] = {}
    for variant in called:
        for codon in {index // 3 for _, index, _ in edits[variant]}:
            by_codon.setdefault(codon, []).append(variant)
    for codon, here in sorted(by_codon.items()):
        for i, first in enumerate(here):
            for second in here[i + 1 :]:
                if (
                    first.position == second.position
                    or (_sum(first.frequency, second.frequency) or 0.0) > 1
                    or (first.phase is not None and first.phase == second.phase)
                ):
                    continue
                known = [f for f in (first.frequency, second.frequency) if f is not None]
                together = min(known) if len(known) == 2 else None
                unseen = [c.id for c in haplotype([first, second], together) if c.id not in found]
                if unseen:
                    result.warnings.append(
                        f"{gene} codon {codon + 1}: the variants at {first.position} "
                        f"({_percent(first.frequency)}) and {second.position} "
                        f"({_percent(second.frequency)}) need not share a genome (frequencies not "
                        "shown to sum above 100 %, no phase) "
                        f"and were read apart; on one genome they would read {', '.join(unseen)} "
                        "(not called; confirm by phased sequencing)"
                    )
