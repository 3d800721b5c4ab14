"""VCF (against NC_006273.2) → amino-acid changes with allele frequencies.

Allele frequency, first found of: INFO ``AF`` (LoFreq, bcftools), FORMAT ``AF``, FORMAT ``FREQ``
(VarScan, ``45.2%``), FORMAT ``AD`` (alt / all reads), INFO ``DP4`` (alt / all reads). A record
without any is taken as 1.0 and the report says so. Records whose FILTER is neither ``PASS`` nor
``.`` are left out (and counted).

Variants at or above the reporting threshold are applied together, so that several variants in
one codon make one codon change (TGC→GGA at UL97 592 is C592G, not C592G plus a stop); the
change's frequency is the lowest of its variants'. Each variant below the threshold is then
translated alone on that background and listed as a minority variant; it never drives a call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cmvcds.engine.resistance.codons import Call, call_changes
from cmvcds.engine.resistance.genes import GeneModel, ReferenceGenes, reverse_complement
from cmvcds.errors import SequenceInputError

__all__ = ["Variant", "VcfCalls", "parse_vcf", "vcf_calls"]


@dataclass(frozen=True)
class Variant:
    line: int
    position: int
    ref: str
    alt: str
    frequency: float


@dataclass
class VcfCalls:
    calls: list[Call] = field(default_factory=list)
    minority: list[Call] = field(default_factory=list)
    genes_seen: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


def _number(text: str, line: int, what: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise SequenceInputError(f"VCF line {line}: {what} {text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise SequenceInputError(
            f"VCF line {line}: {what} {text!r} is not a frequency between 0 and 1"
        )
    return value


def _frequencies(cols: list[str], n_alt: int, line: int) -> list[float] | None:
    info = dict(item.partition("=")[::2] for item in cols[7].split(";")) if len(cols) > 7 else {}
    if info.get("AF"):
        return [_number(v, line, "INFO AF") for v in info["AF"].split(",")][:n_alt]
    if len(cols) > 9:
        sample = dict(zip(cols[8].split(":"), cols[9].split(":"), strict=False))
        if sample.get("AF", ".") != ".":
            return [_number(v, line, "FORMAT AF") for v in sample["AF"].split(",")][:n_alt]
        if sample.get("FREQ", ".") != ".":
            return [_number(v, line, "FORMAT FREQ") for v in sample["FREQ"].split(",")][:n_alt]
        if sample.get("AD", ".") != ".":
            depths = [int(v) for v in sample["AD"].split(",") if v.isdigit()]
            total = sum(depths)
            if total and len(depths) == n_alt + 1:
                return [d / total for d in depths[1:]]
    if info.get("DP4"):
        reads = [int(v) for v in info["DP4"].split(",") if v.isdigit()]
        reads_total = sum(reads)
        if len(reads) == 4 and reads_total > 0 and n_alt == 1:
            return [(reads[2] + reads[3]) / reads_total]
    return None


def parse_vcf(text: str, accession: str) -> tuple[list[Variant], list[str]]:
    """The variants of a VCF against ``accession``, and warnings about what was left out."""
    variants: list[Variant] = []
    filtered = no_frequency = 0
    seen_header = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith("##") or not raw.strip():
            continue
        if raw.startswith("#"):
            seen_header = True
            continue
        cols = raw.rstrip("\n").split("\t")
        if len(cols) < 8:
            raise SequenceInputError(
                f"VCF line {number}: expected at least 8 tab-separated columns"
            )
        chrom, pos, _, ref, alts, _, filt = cols[:7]
        if chrom.split(".")[0] != accession.split(".")[0]:
            raise SequenceInputError(
                f"VCF line {number}: chromosome {chrom!r} is not {accession}; call variants against "
                f"the Merlin reference {accession}"
            )
        if filt not in ("PASS", "."):
            filtered += 1
            continue
        if not pos.isdigit() or not ref.isalpha():
            raise SequenceInputError(f"VCF line {number}: unreadable POS {pos!r} or REF {ref!r}")
        alt_list = alts.split(",")
        frequencies = _frequencies(cols, len(alt_list), number)
        if frequencies is None:
            no_frequency += 1
            frequencies = [1.0] * len(alt_list)
        for alt, frequency in zip(alt_list, frequencies, strict=False):
            if alt in (".", "*", "<*>", "<NON_REF>") or alt.startswith("<"):
                continue
            variants.append(Variant(number, int(pos), ref.upper(), alt.upper(), frequency))
    if not seen_header:
        raise SequenceInputError("not a VCF: no '#CHROM' header line")
    warnings = []
    if filtered:
        warnings.append(f"{filtered} VCF record(s) failed their FILTER and were left out")
    if no_frequency:
        warnings.append(
            f"{no_frequency} VCF record(s) had no allele frequency and were taken as 1.0"
        )
    return variants, warnings


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


def _check_ref(gene: GeneModel, variant: Variant) -> None:
    for k, base in enumerate(variant.ref):
        index = gene.coding_index(variant.position + k)
        if index is None:
            continue
        expected = gene.cds[index] if gene.strand == "+" else reverse_complement(gene.cds[index])
        if base != expected:
            raise SequenceInputError(
                f"VCF line {variant.line}: REF {variant.ref} at {variant.position} does not match "
                f"NC_006273.2 ({gene.name}); was the VCF called against another reference?"
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


def vcf_calls(text: str, genes: ReferenceGenes, threshold: float) -> VcfCalls:
    variants, warnings = parse_vcf(text, genes.accession)
    result = VcfCalls(warnings=warnings)
    spans = {name: model.span() for name, model in genes.genes.items()}
    for name, model in genes.genes.items():
        lo, hi = spans[name]
        here = [v for v in variants if v.position <= hi and v.position + len(v.ref) - 1 >= lo]
        here = [
            v
            for v in here
            if any(model.coding_index(v.position + k) is not None for k in range(len(v.ref)))
        ]
        if not here:
            continue
        result.genes_seen.add(name)
        for variant in here:
            _check_ref(model, variant)
        _gene_calls(model, here, threshold, result)
    return result


def _gene_calls(
    model: GeneModel, variants: Iterable[Variant], threshold: float, result: VcfCalls
) -> None:
    major = [(v, _edits(model, v)) for v in variants if v.frequency >= threshold]
    minor = [(v, _edits(model, v)) for v in variants if v.frequency < threshold]
    aligned = list(model.cds)
    frequencies: dict[int, float] = {}
    touched: set[int] = set()
    for variant, edits in major:
        touched |= _apply(aligned, edits)
        for _, index, _ in edits:
            frequencies[index] = min(variant.frequency, frequencies.get(index, 1.0))
    calls = call_changes(model, aligned, touched, frequencies) if touched else []
    result.calls.extend(calls)
    major_ids = {c.id for c in calls}
    for variant, edits in minor:
        if not edits:
            continue
        background = list(aligned)
        codons = _apply(background, edits)
        for call in call_changes(model, background, codons):
            if call.id not in major_ids and all(m.id != call.id for m in result.minority):
                result.minority.append(Call(call.id, variant.frequency))
