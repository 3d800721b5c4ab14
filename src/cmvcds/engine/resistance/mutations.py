"""Amino-acid change notation: parse what laboratories write into ``GENE:change`` ids.

Accepted, case-insensitive gene names and either ``:`` or a space before the change:

    UL97:M460V   UL97 M460V   UL97:p.Met460Val   UL97:p.(M460V)   ul97:m460v   substitutions
    UL27:E22*    UL27:p.Glu22Ter                                     stops
    UL97:del591-594   UL97:591-594del   UL97:p.Ala591_Cys594del   UL97:Δ595   deletions
    UL54:D981del2                                                    deletions (count)
    UL97:ins600_601K  UL97:p.Ala600_Val601insLys                     insertions
    UL97:fs600   UL97:p.Ala600fs                                     frameshifts
    UL97:M460V/I   UL97:A594A/V   UL97:p.Met460Val/Ile               mixtures (probe15 A1)
    UL97:c.1378A>G                                                   one coding base, translated

A mixture names the residues a laboratory read at one codon (Arefinia 2018: "mix genotype of
M460V/I"): each changed residue is listed as a change of its own, marked as a mixture (present
in part of the population, proportion not given); the reference residue (``A594A/V``) is the
wild-type part. ``c.N X>Y`` is read on the gene's reference coding sequence (the base at N
must be X) and translated with the standard code (Biopython's NCBI table 1). ``X`` as a residue is
refused: current HGVS writes a stop as ``*`` or ``Ter`` and uses ``X``/``Xaa`` for an
unspecified amino acid, while older reports used ``X`` for a stop, so which is meant cannot be
told (probe15 A7; ADR 0033-fix15a).

Canonical ids: ``UL97:M460V``, ``UL27:E22*``, ``UL97:del591-594`` (``UL97:del617`` for one
residue), ``UL97:ins600_601K`` (residues inserted between 600 and 601), ``UL97:fs600``. Each change
is checked against the reference protein (HCMV Merlin, HSV-1 strain 17, HSV-2 HG52, VZV
Dumas); a mismatch is an input error naming the residue found. VZV genes are ``ORF36``, ``ORF28``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from cmvcds.engine.resistance.genes import ReferenceGenes
from cmvcds.errors import SequenceInputError

__all__ = [
    "Change",
    "MutationList",
    "parse_change_id",
    "parse_mutation",
    "parse_mutation_list",
    "parse_mutations",
    "read_mutation_list",
    "shift_3prime",
]

THREE_LETTER = {
    "ala": "A", "arg": "R", "asn": "N", "asp": "D", "cys": "C", "gln": "Q", "glu": "E",
    "gly": "G", "his": "H", "ile": "I", "leu": "L", "lys": "K", "met": "M", "phe": "F",
    "pro": "P", "ser": "S", "thr": "T", "trp": "W", "tyr": "Y", "val": "V", "ter": "*",
}  # fmt: skip
_AA = r"(?:[A-Za-z][a-z]{2}|[A-Z*])"
_GENE = re.compile(r"^\s*((?:UL|ORF)\d+)\s*[:\s]\s*(\S.*?)\s*$", re.I)
_SUB = re.compile(rf"^({_AA})(\d+)({_AA}|X)$")
_LOWER_SUB = re.compile(r"^[a-z]\d+[a-z*]$")  # m460v: one-letter codes written in lower case
_MIXTURE = re.compile(rf"^({_AA})(\d+)((?:{_AA})(?:/{_AA})+)$")
_CODING = re.compile(r"^c\.(\d+)([ACGTacgt])>([ACGTacgt])$")
_DELTA = re.compile(r"^[\u0394\u2206\u03b4](?=\d)")  # Δ595 (Greek capital delta, increment sign)
_X = (
    "X is not read: current HGVS writes a stop as * or Ter and uses X for an unspecified amino "
    "acid, older reports used X for a stop; write * (or Ter) for a stop, or the residue found"
)
_DEL = [
    re.compile(r"^del(\d+)(?:[-_](\d+))?$", re.I),
    re.compile(r"^(\d+)(?:[-_](\d+))?del$", re.I),
    re.compile(rf"^{_AA}(\d+)(?:_{_AA}(\d+))?del$"),
]
_DEL_COUNT = re.compile(rf"^{_AA}(\d+)del(\d+)$")
_INS = [
    re.compile(r"^ins(\d+)_(\d+)([A-Z*]+)$"),
    re.compile(rf"^{_AA}(\d+)_{_AA}(\d+)ins((?:{_AA})+)$"),
]
_FS = re.compile(rf"^(?:fs(\d+)|{_AA}(\d+)(?:{_AA})?fs(?:\*?\d+|Ter\d+)?)$")
EXAMPLES = (
    "UL97:M460V, UL97 M460V, UL97:p.Met460Val, UL97:del591-594, UL97:ins600_601K, "
    "UL97:M460V/I (a mixture) or UL97:c.1378A>G"
)


@dataclass(frozen=True)
class Change:
    """A parsed change: gene, kind (sub, del, ins, fs), first and last residue, residues."""

    gene: str
    kind: str
    start: int
    end: int
    ref: str = ""
    alt: str = ""

    @property
    def id(self) -> str:
        if self.kind == "sub":
            return f"{self.gene}:{self.ref}{self.start}{self.alt}"
        if self.kind == "del":
            span = f"{self.start}" if self.start == self.end else f"{self.start}-{self.end}"
            return f"{self.gene}:del{span}"
        if self.kind == "ins":
            return f"{self.gene}:ins{self.start}_{self.end}{self.alt}"
        return f"{self.gene}:fs{self.start}"


def _residue(text: str) -> str:
    if len(text) == 3:
        if text.lower() == "xaa":
            raise ValueError(_X)
        try:
            return THREE_LETTER[text.lower()]
        except KeyError:
            raise ValueError(f"unknown amino acid {text!r}") from None
    if text.upper() == "X":
        raise ValueError(_X)
    return text.upper()


def _residues(text: str) -> str:
    if re.fullmatch(r"[A-Z*]+", text):
        return text
    return "".join(_residue(text[i : i + 3]) for i in range(0, len(text), 3))


def _change(gene: str, text: str) -> Change:
    text = _plain(text)
    if m := _SUB.match(text):
        return Change(gene, "sub", int(m[2]), int(m[2]), _residue(m[1]), _residue(m[3]))
    for pattern in _DEL:
        if m := pattern.match(text):
            return Change(gene, "del", int(m[1]), int(m[2] or m[1]))
    if m := _DEL_COUNT.match(text):
        return Change(gene, "del", int(m[1]), int(m[1]) + int(m[2]) - 1)
    for pattern in _INS:
        if m := pattern.match(text):
            return Change(gene, "ins", int(m[1]), int(m[2]), alt=_residues(m[3]))
    if m := _FS.match(text):
        return Change(gene, "fs", int(m[1] or m[2]), int(m[1] or m[2]))
    raise ValueError(f"unrecognised change {text!r}")


def _plain(text: str) -> str:
    """The change without ``p.``, brackets, a ``Δ`` for ``del`` or lower-case one-letter codes."""
    text = text.strip()
    text = re.sub(r"^p\.", "", text)
    text = re.sub(r"^\((.*)\)$", r"\1", text)
    text = _DELTA.sub("del", text)
    return text.upper() if _LOWER_SUB.match(text) else text


def parse_mutation(text: str, genes: ReferenceGenes) -> Change:
    """One mutation as written by a laboratory, checked against the reference protein (a
    mixture is refused here: :func:`parse_mutations` reads it)."""
    changes, _ = parse_mutations(text, genes)
    if len(changes) != 1:
        raise SequenceInputError(f"{text!r} names {len(changes)} changes (a mixture)")
    return changes[0]


def parse_mutations(text: str, genes: ReferenceGenes) -> tuple[list[Change], bool]:
    """The change(s) one laboratory notation names, each checked against the reference, and
    whether they are a mixture (``M460V/I``: M460V and M460I, each in part of the population;
    ``A594A/V``: A594V, the reference residue being the rest). A substitution to the reference
    residue is returned as such (synonymous); a mixture keeps only its changed residues."""
    match = _GENE.match(text)
    if not match:
        raise SequenceInputError(f"{text!r} is not a mutation; write it as {EXAMPLES}")
    gene_name = match[1].upper()
    if gene_name not in genes.genes:
        known = ", ".join(genes.genes)
        raise SequenceInputError(f"{text!r}: gene {gene_name} is not a resistance gene ({known})")
    model = genes.gene(gene_name)
    protein = model.protein
    written = _plain(match[2])
    try:
        if m := _CODING.match(written):
            changes = [_coding(gene_name, model.cds, int(m[1]), m[2].upper(), m[3].upper(), text)]
            mixture = False
        elif (m := _MIXTURE.match(written)) or (m := _MIXTURE.match(written.upper())):
            residues = [_residue(r) for r in re.findall(_AA, m[3])]
            ref = _residue(m[1])
            if len(set(residues)) != len(residues) or len(residues) < 2:
                raise ValueError(f"a mixture names each residue once ({m[3]!r})")
            changes = [
                Change(gene_name, "sub", int(m[2]), int(m[2]), ref, r) for r in residues if r != ref
            ]
            mixture = True
        else:
            changes = [_change(gene_name, match[2])]
            mixture = False
    except ValueError as error:
        raise SequenceInputError(f"{text!r}: {error}; write it as {EXAMPLES}") from None
    for change in changes:
        _check(change, protein, text, genes.label)
    return [shift_3prime(c, protein) for c in changes], mixture


def _coding(gene: str, cds: str, number: int, ref: str, alt: str, text: str) -> Change:
    """``c.N X>Y`` on the gene's reference coding sequence, translated (standard code)."""
    from cmvcds.engine.resistance.genes import codon_table

    if not 1 <= number <= len(cds) - 3:  # the stop codon is not a residue
        raise SequenceInputError(f"{text!r}: position outside the {gene} coding sequence")
    found = cds[number - 1]
    if found != ref:
        raise SequenceInputError(
            f"{text!r}: coding base {number} of {gene} is {found} in the reference, not {ref}"
        )
    if ref == alt:
        raise SequenceInputError(f"{text!r}: the base does not change")
    residue = (number - 1) // 3 + 1
    start = 3 * (residue - 1)
    codon = cds[start : start + 3]
    changed = codon[: (number - 1) % 3] + alt + codon[(number - 1) % 3 + 1 :]
    table = codon_table()
    return Change(gene, "sub", residue, residue, table[codon], table[changed])


def shift_3prime(change: Change, protein: str) -> Change:
    """An indel moved to its 3'-most equivalent position (HGVS): in ``...GAACRAL...`` (UL97
    588-595) deleting 590-593 or 591-594 gives the same protein; both are ``del591-594``."""
    start, end, alt = change.start, change.end, change.alt
    if change.kind == "del":
        while end < len(protein) and protein[start - 1] == protein[end]:
            start, end = start + 1, end + 1
    elif change.kind == "ins":
        while end <= len(protein) and alt and protein[end - 1] == alt[0]:
            alt = alt[1:] + alt[0]
            start, end = start + 1, end + 1
    else:
        return change
    return Change(change.gene, change.kind, start, end, change.ref, alt)


def _check(change: Change, protein: str, text: str, reference: str) -> None:
    length = len(protein)
    if not (1 <= change.start <= change.end <= length) and not (
        change.kind == "ins" and change.end == change.start + 1 and 1 <= change.start < length
    ):
        raise SequenceInputError(f"{text!r}: position outside {change.gene} (1-{length})")
    if change.kind == "ins" and change.end != change.start + 1:
        raise SequenceInputError(f"{text!r}: an insertion lies between two adjacent residues")
    if change.kind == "sub":
        found = protein[change.start - 1]
        if found != change.ref:
            raise SequenceInputError(
                f"{text!r}: {change.gene} residue {change.start} is {found} in {reference}, "
                f"not {change.ref}"
            )


def parse_mutation_list(items: str | Iterable[str], genes: ReferenceGenes) -> tuple[str, ...]:
    """Canonical ids of a comma-, semicolon- or newline-separated list (duplicates removed)."""
    return read_mutation_list(items, genes)[0]


class MutationList(NamedTuple):
    """A mutation list read: canonical ids in first-seen order; for each id listed more than
    once the texts that named it (``UL97:A594V`` and ``UL97 p.Ala594Val`` are the same change);
    the synonymous changes listed (``UL97:L595L``: checked against the reference, no effect,
    reported as such); and the ids read from a mixture, with the text that named them."""

    ids: tuple[str, ...]
    repeated: dict[str, tuple[str, ...]]
    synonymous: tuple[str, ...]
    mixtures: dict[str, str]


def read_mutation_list(items: str | Iterable[str], genes: ReferenceGenes) -> MutationList:
    """The changes of a comma-, semicolon- or newline-separated list (see :class:`MutationList`)."""
    texts = re.split(r"[,;\n]", items) if isinstance(items, str) else list(items)
    written: dict[str, list[str]] = {}
    synonymous: list[str] = []
    mixtures: dict[str, str] = {}
    problems: list[str] = []
    for text in texts:
        if text.strip():
            try:
                changes, mixture = parse_mutations(text.strip(), genes)
            except SequenceInputError as error:
                problems.append(str(error))
                continue
            for change in changes:
                if change.kind == "sub" and change.alt == change.ref:
                    synonymous.append(change.id)
                    continue
                written.setdefault(change.id, []).append(text.strip())
                if mixture:
                    mixtures.setdefault(change.id, text.strip())
    if problems:
        # Every unreadable change named at once, and no report: calls made without one of the
        # listed changes could read "susceptible" where it confers resistance (probe8 R7).
        raise SequenceInputError(_unread(problems, len(written) + len(synonymous)))
    repeated = {m: tuple(t) for m, t in written.items() if len(t) > 1}
    return MutationList(tuple(written), repeated, tuple(synonymous), mixtures)


def _unread(problems: list[str], readable: int) -> str:
    if len(problems) == 1 and not readable:
        return problems[0]
    listed = "; ".join(problems)
    return (
        f"{len(problems)} of {len(problems) + readable} listed changes could not be read "
        f"({listed}); correct them and send the list again: no report is made from part of "
        "a list, because a change left out could hide resistance"
    )


@lru_cache(maxsize=4096)
def parse_change_id(mutation_id: str) -> Change:
    """A canonical id back into its parts (no reference check; ids come from the engine;
    memoised: reports sort and index by it)."""
    gene, _, change = mutation_id.partition(":")
    return _change(gene, change)
