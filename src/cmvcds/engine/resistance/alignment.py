"""FASTA → per-gene alignment to the reference coding sequences (gene, amplicon or whole genome).

1. **Seeding**: every ``K``-mer that occurs once in an exon of a resistance gene is indexed; the
   query (and its reverse complement) is sampled every ``STRIDE`` bases against that index, which
   finds the gene regions of a whole genome in a few milliseconds and the query's orientation.
2. **Chaining**: inside the region, all exact ``K``-mer hits are chained (longest chain increasing
   in both sequences) and anchors are kept every ``SPACING`` reference bases.
3. **Alignment**: only the stretches between anchors are aligned, globally, with Biopython's
   ``PairwiseAligner``; the stretches before the first and after the last anchor with free end
   gaps, so that an amplicon's ends mark the covered region instead of deletions.

The result is the base-by-base alignment that :mod:`codons` translates. Ambiguous bases score
0 against any base (neutral: a run of N is a stretch not read, never a deletion; issue 18). Two-base
IUPAC codes (R, Y, K, M, S, W) are kept as mixtures: :mod:`codons` reads such a codon as its
possible codons. N and the three-base codes (B, D, H, V) carry no usable base: their codon is
uncovered ("not covered" in the report). Spliced genes (UL89) are aligned exon by exon.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

from Bio.Align import PairwiseAligner

from cmvcds.engine.resistance.codons import UNCOVERED
from cmvcds.engine.resistance.genes import ReferenceGenes, reverse_complement
from cmvcds.errors import SequenceInputError

__all__ = ["FastaIndex", "align_fasta", "fasta_index", "parse_fasta"]

K = 16
STRIDE = 8
SPACING = 120
PAD = 300
MIN_HITS = 4
MIN_FLANK = K  # aligned bases needed between a free end and an indel for the indel to be called
_NUCLEOTIDES = re.compile(r"^[ACGTURYKMSWBDHVN]*$")


@dataclass(frozen=True)
class Segment:
    gene: str
    offset: int  # coding offset of this exon in its gene
    sequence: str
    kmers: Mapping[str, int]


@dataclass(frozen=True)
class FastaIndex:
    segments: tuple[Segment, ...]
    seeds: Mapping[str, tuple[int, int]]  # k-mer -> (segment number, position)
    lengths: Mapping[str, int]  # coding length of each gene


def fasta_index(genes: ReferenceGenes) -> FastaIndex:
    """The seed index of the reference genes (memoised per gene set: a pure function)."""
    key = tuple((name, model.cds) for name, model in genes.genes.items())
    index = _INDEXES.get(key)
    if index is None:
        index = _INDEXES[key] = _build_index(genes)
    return index


_INDEXES: dict[tuple[tuple[str, str], ...], FastaIndex] = {}


def _build_index(genes: ReferenceGenes) -> FastaIndex:
    segments: list[Segment] = []
    counts: Counter[str] = Counter()
    for name, model in genes.genes.items():
        for offset, sequence in model.exon_sequences():
            here = Counter(sequence[i : i + K] for i in range(len(sequence) - K + 1))
            counts.update(here)
            kmers = {
                sequence[i : i + K]: i
                for i in range(len(sequence) - K + 1)
                if here[sequence[i : i + K]] == 1
            }
            segments.append(Segment(name, offset, sequence, kmers))
    seeds = {
        kmer: (number, position)
        for number, segment in enumerate(segments)
        for kmer, position in segment.kmers.items()
        if counts[kmer] == 1
    }
    lengths = {name: len(model.cds) for name, model in genes.genes.items()}
    return FastaIndex(tuple(segments), seeds, lengths)


def parse_fasta(text: str) -> list[tuple[str, str]]:
    """(name, sequence) of each record; gaps removed, U read as T; refuses non-nucleotide text."""
    records: list[tuple[str, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith(">"):
            records.append((line[1:].strip() or f"record {len(records) + 1}", []))
            continue
        if not records:
            raise SequenceInputError(f"line {number}: FASTA must start with a '>' header line")
        records[-1][1].append(line)
    result = []
    for name, lines in records:
        sequence = (
            "".join(lines)
            .upper()
            .replace("-", "")
            .replace(".", "")
            .replace(" ", "")
            .replace("U", "T")
        )
        if not _NUCLEOTIDES.match(sequence):
            bad = sorted(set(sequence) - set("ACGTURYKMSWBDHVN"))
            raise SequenceInputError(
                f"FASTA record {name!r}: characters {''.join(bad)!r} are not nucleotides (IUPAC codes)"
            )
        if sequence:
            result.append((name, sequence))
    if not result:
        raise SequenceInputError("the FASTA input holds no sequence")
    return result


_UNREAD = frozenset("BDHVN")  # no usable base: the codon is not covered


def _scores() -> Any:
    """Match 2, mismatch -3 between A, C, G, T; 0 for any pair with an ambiguity code."""
    from Bio.Align.substitution_matrices import Array

    alphabet = "ACGTRYKMSWBDHVN"
    matrix = Array(alphabet, dims=2)  # type: ignore[no-untyped-call]
    for a in alphabet:
        for b in alphabet:
            if a in "ACGT" and b in "ACGT":
                matrix[a, b] = 2 if a == b else -3
    return matrix


@cache
def _aligners() -> tuple[PairwiseAligner, PairwiseAligner, PairwiseAligner]:
    def make(free_left: bool, free_right: bool) -> PairwiseAligner:
        aligner = PairwiseAligner(mode="global")  # type: ignore[no-untyped-call]
        aligner.substitution_matrix = _scores()
        aligner.open_gap_score = -8
        aligner.extend_gap_score = -1
        if free_left:
            aligner.open_left_insertion_score = aligner.extend_left_insertion_score = 0
            aligner.open_left_deletion_score = aligner.extend_left_deletion_score = 0
        if free_right:
            aligner.open_right_insertion_score = aligner.extend_right_insertion_score = 0
            aligner.open_right_deletion_score = aligner.extend_right_deletion_score = 0
        return aligner

    return make(False, False), make(True, False), make(False, True)


def align_fasta(text: str, genes: ReferenceGenes) -> dict[str, list[str]]:
    """Per gene, the base-by-base alignment of the FASTA input (genes not found are absent)."""
    index = fasta_index(genes)
    records = parse_fasta(text)
    oriented = [s for _, sequence in records for s in (sequence, reverse_complement(sequence))]
    hits: dict[int, list[tuple[int, int]]] = {}  # segment -> [(hit count, oriented query)]
    diagonal_of: dict[tuple[int, int], int] = {}  # (oriented query, segment) -> median diagonal
    for q_number, query in enumerate(oriented):
        per_segment: dict[int, list[int]] = {}
        for i in range(0, len(query) - K + 1, STRIDE):
            seed = index.seeds.get(query[i : i + K])
            if seed is not None:
                per_segment.setdefault(seed[0], []).append(i - seed[1])
        for number, diagonals in per_segment.items():
            if len(diagonals) >= MIN_HITS:
                hits.setdefault(number, []).append((len(diagonals), q_number))
                diagonal_of[(q_number, number)] = sorted(diagonals)[len(diagonals) // 2]
    aligned: dict[str, list[str]] = {}
    for number, candidates in hits.items():
        segment = index.segments[number]
        merged: list[str] | None = None
        for _, q_number in sorted(candidates, reverse=True):
            part = _align_segment(segment, oriented[q_number], diagonal_of[(q_number, number)])
            merged = (
                part
                if merged is None
                else [m if m != UNCOVERED else p for m, p in zip(merged, part, strict=True)]
            )
        gene = aligned.setdefault(segment.gene, [UNCOVERED] * index.lengths[segment.gene])
        assert merged is not None
        gene[segment.offset : segment.offset + len(segment.sequence)] = merged
    return aligned


def _align_segment(segment: Segment, query: str, diagonal: int) -> list[str]:
    reference = segment.sequence
    lo = max(0, diagonal - PAD)
    hi = min(len(query), diagonal + len(reference) + PAD)
    chain = _chain(
        [
            (i, segment.kmers[query[i : i + K]])
            for i in range(lo, hi - K + 1)
            if query[i : i + K] in segment.kmers
        ]
    )
    out = [UNCOVERED] * len(reference)
    if not chain:
        return out
    anchors = [chain[0]]
    for q, r in chain[1:]:
        if r - anchors[-1][1] >= SPACING and q - anchors[-1][0] >= K:
            anchors.append((q, r))
    middle, left, right = _aligners()
    q0, r0 = anchors[0]
    _place(left, reference, query, 0, r0, max(lo, q0 - r0 - PAD), q0, out, "left")
    for (qa, ra), (qb, rb) in pairwise(anchors):
        _place(middle, reference, query, ra, rb, qa, qb, out, None)
    qz, rz = anchors[-1]
    _place(
        right,
        reference,
        query,
        rz,
        len(reference),
        qz,
        min(hi, qz + len(reference) - rz + PAD),
        out,
        "right",
    )
    return out


def _chain(hits: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest chain of hits increasing in both query and reference (hits sorted by query)."""
    tails: list[int] = []
    tail_index: list[int] = []
    previous = [-1] * len(hits)
    for i, (_, r) in enumerate(hits):
        j = bisect.bisect_left(tails, r)
        if j == len(tails):
            tails.append(r)
            tail_index.append(i)
        else:
            tails[j] = r
            tail_index[j] = i
        previous[i] = tail_index[j - 1] if j else -1
    chain = []
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        chain.append(hits[i])
        i = previous[i]
    return chain[::-1]


def _place(
    aligner: PairwiseAligner,
    reference: str,
    query: str,
    r_lo: int,
    r_hi: int,
    q_lo: int,
    q_hi: int,
    out: list[str],
    free_end: str | None,
) -> None:
    """Align reference[r_lo:r_hi] with query[q_lo:q_hi] and write the result into ``out``."""
    if r_lo >= r_hi:
        return
    target = reference[r_lo:r_hi]
    piece = query[q_lo:q_hi]
    if not piece:
        if free_end is None:
            out[r_lo:r_hi] = [""] * (r_hi - r_lo)
        return
    coordinates: Any = aligner.align(target, piece)[0].coordinates  # type: ignore[no-untyped-call]
    blocks = [
        (
            int(coordinates[0][i]),
            int(coordinates[0][i + 1]),
            int(coordinates[1][i]),
            int(coordinates[1][i + 1]),
        )
        for i in range(coordinates.shape[1] - 1)
    ]
    if free_end is not None:
        blocks = _short_flank_ungapped(blocks, free_end, len(target), len(piece))
    paired = [n for n, (t0, t1, p0, p1) in enumerate(blocks) if t1 > t0 and p1 > p0]
    if not paired:
        return
    first, last = paired[0], paired[-1]
    for n, (t0, t1, p0, p1) in enumerate(blocks):
        terminal = (free_end == "left" and n < first) or (free_end == "right" and n > last)
        if t1 > t0 and p1 > p0:
            for k in range(t1 - t0):
                base = piece[p0 + k]
                out[r_lo + t0 + k] = UNCOVERED if base in _UNREAD else base
        elif t1 > t0 and not terminal:
            out[r_lo + t0 : r_lo + t1] = [""] * (t1 - t0)
        elif p1 > p0 and not terminal and r_lo + t0 > 0:
            inserted = piece[p0:p1]
            position = r_lo + t0 - 1
            out[position] = out[position] + inserted if set(inserted) <= set("ACGT") else UNCOVERED


Block = tuple[int, int, int, int]  # target start, target end, piece start, piece end


def _short_flank_ungapped(blocks: list[Block], free_end: str, t_len: int, p_len: int) -> list[Block]:
    """An indel with fewer than ``MIN_FLANK`` aligned bases between it and a free end is not called.

    With free end gaps, a few bases matching by chance at the very end of a sequence (the start
    codon, say) can pull the rest of the end into an indel that costs less than the substitutions
    it replaces (two changed codons after ATG read as "del2-3"). As variant callers distrust
    indels near a read's end, the stretch from the free end to the first well-anchored block (or
    the chained anchor that bounds the piece) is read ungapped: base against base, as far as the
    sequence reaches.
    """
    paired = [n for n, (t0, t1, p0, p1) in enumerate(blocks) if t1 > t0 and p1 > p0]
    if not paired:
        return blocks
    trusted = [n for n in paired if blocks[n][1] - blocks[n][0] >= MIN_FLANK]
    if free_end == "left":
        bound = trusted[0] if trusted else len(blocks)
        if not any(n not in paired for n in range(paired[0], bound)):
            return blocks
        anchor_t, anchor_p = (blocks[bound][0], blocks[bound][2]) if trusted else (t_len, p_len)
        reach = min(anchor_t, anchor_p)
        head: list[Block] = []
        if anchor_p > reach:
            head.append((0, 0, 0, anchor_p - reach))
        if anchor_t > reach:
            head.append((0, anchor_t - reach, 0, 0))
        head.append((anchor_t - reach, anchor_t, anchor_p - reach, anchor_p))
        return head + blocks[bound:]
    bound = trusted[-1] if trusted else -1
    if not any(n not in paired for n in range(bound + 1, paired[-1] + 1)):
        return blocks
    end_t, end_p = (blocks[bound][1], blocks[bound][3]) if trusted else (0, 0)
    reach = min(t_len - end_t, p_len - end_p)
    tail: list[Block] = [(end_t, end_t + reach, end_p, end_p + reach)]
    if p_len > end_p + reach:
        tail.append((end_t + reach, end_t + reach, end_p + reach, p_len))
    if t_len > end_t + reach:
        tail.append((end_t + reach, t_len, end_p + reach, end_p + reach))
    return blocks[: bound + 1] + tail
