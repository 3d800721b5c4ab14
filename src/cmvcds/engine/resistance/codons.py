"""Amino-acid changes from a coding sequence aligned base by base to the reference.

The alignment is one entry per reference coding base: the query bases aligned to it, followed by
any bases the query inserts after it (``""`` is a deleted base, ``UNCOVERED`` a base the input does
not cover or covers with an ambiguous base). FASTA alignment and VCF records both produce it, so
that in-frame deletions and insertions, several changes in one codon, and frame shifts are
translated the same way whatever the input.

Codons are translated in the reference frame. An indel opens a window that is extended codon by
codon until the reading frame is restored; the window's peptide is then compared with the
reference peptide (common prefix and suffix removed, so a deletion in a repeat is placed at its
3'-most position). A frame that is not restored within ``MAX_WINDOW`` codons is a frame shift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cmvcds.engine.resistance.genes import GeneModel, codon_table, translate
from cmvcds.engine.resistance.mutations import parse_change_id, shift_3prime

__all__ = [
    "MAX_WINDOW",
    "MIXTURE_FREQUENCY",
    "UNCOVERED",
    "Call",
    "LowDepth",
    "call_changes",
    "covered_codons",
]

UNCOVERED = "?"
MAX_WINDOW = 40
#: Frequency reported for an amino acid read from a mixed base (IUPAC code) of a consensus
#: sequence: present as a mixture, proportion not given (never invented: ADR 0031-fix10c).
MIXTURE_FREQUENCY = None
IUPAC = {
    "A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "K": "GT", "M": "AC",
    "S": "CG", "W": "AT", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG",
}  # fmt: skip


@dataclass(frozen=True)
class Call:
    """An amino-acid change found in a sample, with its allele frequency (1.0 for a consensus
    base, ``None`` for a mixed base)
    and, for NGS variants, its haplotype: ``majority`` (the linked variants above 50 %),
    ``separate`` (translated on its own) or ``phased:<PS>`` (phased by the caller). ``None``: a
    VCF variant whose frequency the file does not give (reported so, never invented)."""

    id: str
    frequency: float | None
    haplotype: str | None = None


@dataclass(frozen=True)
class LowDepth:
    """A change an NGS variant would make, read at fewer reads than the minimum depth: not
    called (one read cannot show a population), its codon not assessable (ADR 0033-fix15a)."""

    id: str
    frequency: float | None
    depth: int


def covered_codons(aligned: Sequence[str]) -> list[tuple[int, int]]:
    """1-based inclusive codon intervals whose three bases are all covered."""
    intervals: list[tuple[int, int]] = []
    start = None
    codons = len(aligned) // 3 - 1  # the stop codon is not a residue
    for c in range(codons):
        ok = all(UNCOVERED not in aligned[3 * c + k] for k in range(3))
        if ok and start is None:
            start = c + 1
        elif not ok and start is not None:
            intervals.append((start, c))
            start = None
    if start is not None:
        intervals.append((start, codons))
    return intervals


def call_changes(
    gene: GeneModel,
    aligned: Sequence[str],
    codons: Iterable[int] | None = None,
    frequencies: Mapping[int, float] | None = None,
) -> list[Call]:
    """The changes in ``aligned`` (see module doc); ``codons``: 0-based codons to examine (all)."""
    ref = gene.cds
    protein = gene.protein
    table = codon_table()
    last = len(protein)  # the stop codon is not examined
    todo = range(last) if codons is None else sorted({c for c in codons if 0 <= c < last})
    calls: list[Call] = []
    done_until = -1
    for c in todo:
        if c <= done_until:
            continue
        query = "".join(aligned[3 * c : 3 * c + 3])
        if query == ref[3 * c : 3 * c + 3]:
            continue
        if UNCOVERED in query:
            continue
        if len(query) == 3 and query.strip("ACGT"):  # a mixed (IUPAC) base
            calls.extend(_mixture(gene.name, protein[c], c + 1, query))
            continue
        if len(query) == 3:  # a substitution within the codon (most changes): no window
            done_until = c
            residue = table[query]
            if residue != protein[c]:
                frequency = _frequency(frequencies, 3 * c, 3 * c + 3)
                calls.append(Call(f"{gene.name}:{protein[c]}{c + 1}{residue}", frequency))
            continue
        end = c
        while (
            end + 1 < last
            and end - c < MAX_WINDOW
            and ((len(query) - 3 * (end - c + 1)) % 3 or _indel(aligned, end + 1))
        ):  # until the frame is restored and no indel runs on into the next codon
            end += 1
            query += "".join(aligned[3 * end : 3 * end + 3])
        done_until = end
        frequency = _frequency(frequencies, 3 * c, 3 * end + 3)
        if UNCOVERED in query or query.strip("ACGT"):
            continue  # a mixed base inside an indel window cannot be phased: not called
        if (len(query) - 3 * (end - c + 1)) % 3:
            calls.append(
                Call(f"{gene.name}:fs{c + 1 + _same(translate(query), protein, c)}", frequency)
            )
            continue
        for change in _peptide_changes(gene.name, protein[c : end + 1], translate(query), c + 1):
            calls.append(Call(change, frequency))
    return [_shifted(call, protein) for call in _merge_deletions(calls)]


def _indel(aligned: Sequence[str], codon: int) -> bool:
    """Whether ``codon`` gains or loses bases: an indel running into it from the window before
    belongs to the window (a 13-base deletion over codons 591-595 is one frameshift, never the
    in-frame del591-594 plus a frameshift at 595)."""
    return sum(map(len, aligned[3 * codon : 3 * codon + 3])) != 3


def _same(alt: str, protein: str, first: int) -> int:
    """How many residues from ``first`` a shifted frame still reads unchanged (HGVS names a
    frameshift at its first changed residue: +1 after codon 450 is fs451)."""
    k = 0
    while k < len(alt) and first + k < len(protein) - 1 and alt[k] == protein[first + k]:
        k += 1
    return k


def _shifted(call: Call, protein: str) -> Call:
    if ":del" not in call.id and ":ins" not in call.id:
        return call
    return Call(shift_3prime(parse_change_id(call.id), protein).id, call.frequency)


def _mixture(gene: str, ref: str, residue: int, query: str) -> list[Call]:
    """The amino acids a codon with mixed bases may encode, other than the reference's."""
    codons = [""]
    for base in query:
        codons = [c + b for c in codons for b in IUPAC.get(base, "")]
    residues = sorted({translate(c) for c in codons} - {ref})
    return [Call(f"{gene}:{ref}{residue}{alt}", MIXTURE_FREQUENCY) for alt in residues]


def _frequency(frequencies: Mapping[int, float] | None, start: int, stop: int) -> float:
    if not frequencies:
        return 1.0
    found = [frequencies[i] for i in range(start, stop) if i in frequencies]
    return min(found) if found else 1.0


def _peptide_changes(gene: str, ref: str, alt: str, first: int) -> list[str]:
    """Changes turning ``ref`` (starting at residue ``first``) into ``alt``."""
    if len(ref) == len(alt):
        return [
            f"{gene}:{r}{first + i}{a}"
            for i, (r, a) in enumerate(zip(ref, alt, strict=True))
            if r != a
        ]
    prefix = 0
    while prefix < min(len(ref), len(alt)) and ref[prefix] == alt[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < min(len(ref), len(alt)) - prefix
        and ref[len(ref) - 1 - suffix] == alt[len(alt) - 1 - suffix]
    ):
        suffix += 1
    ref_mid = ref[prefix : len(ref) - suffix]
    alt_mid = alt[prefix : len(alt) - suffix]
    start = first + prefix
    shared = min(len(ref_mid), len(alt_mid))
    changes = [
        f"{gene}:{r}{start + i}{a}"
        for i, (r, a) in enumerate(zip(ref_mid[:shared], alt_mid[:shared], strict=True))
        if r != a
    ]
    if len(ref_mid) > len(alt_mid):
        lo = start + shared
        hi = start + len(ref_mid) - 1
        changes.append(f"{gene}:del{lo}" if lo == hi else f"{gene}:del{lo}-{hi}")
    else:
        after = start + shared - 1
        changes.append(f"{gene}:ins{after}_{after + 1}{alt_mid[shared:]}")
    return changes


def _merge_deletions(calls: list[Call]) -> list[Call]:
    """Adjacent single-codon deletions become one deletion (``del590``, ``del591`` → ``del590-591``)."""
    merged: list[Call] = []
    for call in calls:
        previous = merged[-1] if merged else None
        span = _deletion_span(call.id)
        prev_span = _deletion_span(previous.id) if previous else None
        if (
            previous
            and span
            and prev_span
            and prev_span[0] == span[0]
            and prev_span[2] + 1 == span[1]
        ):
            gene = span[0]
            merged[-1] = Call(
                f"{gene}:del{prev_span[1]}-{span[2]}",
                None
                if previous.frequency is None or call.frequency is None
                else min(previous.frequency, call.frequency),
            )
        else:
            merged.append(call)
    return merged


def _deletion_span(mutation_id: str) -> tuple[str, int, int] | None:
    gene, _, change = mutation_id.partition(":")
    if not change.startswith("del"):
        return None
    lo, _, hi = change[3:].partition("-")
    return gene, int(lo), int(hi or lo)
