"""VCF (against the virus's reference, HCMV NC_006273.2) → the variants of one sample, with allele frequencies and phase.

Allele frequency, first found of: INFO ``AF`` (LoFreq), FORMAT ``AF``, FORMAT ``FREQ``
(VarScan, ``45.2%``), iVar ``ALT_FREQ``, FORMAT ``AD`` and iVar ``REF_DP``/``ALT_DP`` (alt reads
over the site's total depth, every record of the position read: ADR 0033-fix15a), INFO
``DP4`` (alt / all reads). INFO ``AF`` beside ``AN`` (GATK, freebayes) is AC/AN, the genotypes'
frequency: never a measured frequency; without reads the variant is present by its genotype,
frequency not given (review23c). In a VCF of
several samples INFO holds the pooled cohort, so only the chosen sample's FORMAT fields count
(its ``GT`` without the allele means absent). ``.`` (the VCF missing value, alone or in a list) is
no value. A list whose count does not match the alternatives (Number=A) cannot be matched to the
alleles: every alternative of that record keeps ``None``, with a warning naming the line (ADR
0031-fixr3). A record without any frequency keeps ``None``
(frequency not given: never invented, ADR 0031-fix10c) and the report says so. Records whose FILTER is neither ``PASS`` nor ``.`` are left out (and counted);
so are symbolic alleles (``<DEL>``, ``*``) and positions outside the genome, each with a warning.
Records outside the resistance genes are skipped at the line, before anything is built from them.
How the variants become amino-acid changes: :mod:`haplotypes`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import compress, repeat
from operator import itemgetter, not_
from typing import NamedTuple

from cmvcds.errors import SequenceInputError

__all__ = ["Variant", "head_lines", "parse_vcf", "vcf_samples"]

_SYMBOLIC_REFERENCE = {".", "<*>", "<NON_REF>"}  # "no alternative allele": nothing to report


class Variant(NamedTuple):  # a tuple: built for every record kept, hashed by the haplotypes
    line: int
    position: int
    ref: str
    alt: str
    frequency: float | None  # None: the VCF gives none (never invented)
    phase: tuple[str, int] | None = None  # (phase set, haplotype side) when GT is phased
    #: reads at the site (DP, else the reads of all its alleles), None when the VCF gives none
    depth: int | None = None


class VcfRead(NamedTuple):
    """What :func:`parse_vcf` read: the variants, warnings, and the records left out because
    they lie outside the genes read (their number and the POS of the first five)."""

    variants: list[Variant]
    warnings: list[str]
    outside: int = 0
    outside_at: tuple[str, ...] = ()


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


def _info(info: str, key: str) -> str | None:
    """One INFO value (``AF`` in ``DP=90;AF=0.4``) without splitting the whole column."""
    at = info.find(key + "=")
    while at > 0 and info[at - 1] != ";":
        at = info.find(key + "=", at + 1)
    if at < 0:
        return None
    end = info.find(";", at)
    return info[at + len(key) + 1 : end if end >= 0 else len(info)]


def _target_mask(spans: Iterable[tuple[int, int]], length: int) -> bytearray:
    """1 at every genome position where a record of REF length <= ``_MASK_PAD`` may touch a
    span (built once per gene set: the line filter is then one index)."""
    mask = bytearray(length + 2)
    for lo, hi in spans:
        start = max(1, lo - _MASK_PAD)
        mask[start : hi + 1] = b"\x01" * (hi + 1 - start)
    return mask


_MASK_PAD = 64
_MASKS: dict[tuple[tuple[int, int], ...], bytearray] = {}  # memo of a pure function


#: the FORMAT keys this module reads (iVar: ALT_FREQ, REF_DP, ALT_DP, TOTAL_DP)
_READ_KEYS = frozenset(
    {"AF", "FREQ", "AD", "GT", "PS", "DP", "ALT_FREQ", "REF_DP", "ALT_DP", "TOTAL_DP"}
)
_KEY_INDEX: dict[str, tuple[tuple[str, int], ...]] = {}  # memo: FORMAT column -> read keys


def _sample_fields(cols: list[str], column: int) -> dict[str, str]:
    """The FORMAT keys read here (``_READ_KEYS``) of the chosen sample, as
    ``dict(zip(FORMAT, sample))`` would give them (a repeated key: the last one)."""
    if len(cols) <= column:
        return {}
    pairs = _KEY_INDEX.get(cols[8])
    if pairs is None:
        wanted = {key: i for i, key in enumerate(cols[8].split(":")) if key in _READ_KEYS}
        pairs = _KEY_INDEX[cols[8]] = tuple(wanted.items())
    values = cols[column].split(":")
    return {key: values[i] for key, i in pairs if i < len(values)}


def _values(text: str, line: int, what: str) -> list[float | None] | None:
    """A Number=A list (``0.3,0.1``); ``.`` is the VCF missing value (frequency not given), and
    a list that is all ``.`` (``AF=.``) is no value at all: None, the next source is read."""
    parts = text.split(",")
    if all(v == "." for v in parts):
        return None
    return [None if v == "." else _number(v, line, what) for v in parts]


class _Read(NamedTuple):
    frequencies: Sequence[float | None] | None  # one per alternative, or None: none given
    mismatch: str | None = None  # the source whose value count does not match the alternatives
    #: read counts (reference, one per alternative) whose frequencies are taken over the site's
    #: total depth once every record of the position is read (:func:`_site_frequencies`)
    counts: tuple[int, tuple[int, ...]] | None = None
    source: str = ""  # where the counts come from: "AD", "iVar REF_DP/ALT_DP" or "DP4"
    #: only the genotypes' AF (AC/AN) was given: present by the genotype, frequency not given
    genotype_only: bool = False


def _matched(values: list[float | None], n_alt: int, what: str) -> _Read:
    """Number=A: one value per alternative. Any other count cannot be matched to the alleles
    (which allele does the one value of ``AF=0.5`` for ``T,G`` belong to?): every alternative of
    the line is then frequency not given, never cut to size (ADR 0031-fixr3)."""
    if len(values) == n_alt:
        return _Read(values)
    return _Read([None] * n_alt, f"{what} gives {len(values)} value(s) for {n_alt} alternative(s)")


def _count(text: str, line: int, what: str) -> int | None:
    """A read count (``DP``, ``REF_DP``): ``.`` or nothing is none; anything else not a whole
    number is an input error naming the line (VCF 4.2 §1.6.2: DP is an Integer)."""
    if not text or text == ".":
        return None
    if not text.isdigit():
        raise SequenceInputError(f"VCF line {line}: {what} {text!r} is not a read count")
    return int(text)


def _frequencies(
    cols: list[str], sample: dict[str, str], n_alt: int, line: int, pooled_info: bool
) -> _Read:
    """The alternatives' frequencies as the caller states them (INFO AF, FORMAT AF, FREQ, iVar
    ALT_FREQ), else their read counts (FORMAT AD, iVar REF_DP/ALT_DP, INFO DP4), whose
    frequencies need the depth of the whole site: a record split from a multi-allelic site
    (``bcftools norm -m-``) holds the reference and one alternative only (ADR 0033-fix15a)."""
    info_af = _info(cols[7], "AF") if pooled_info else None
    # INFO AF beside AN (GATK, freebayes) is AC/AN, the genotypes' allele frequency (1.00 for a
    # haploid "1" whatever the reads): the sample's reads are read first, that AF last
    genotypes = info_af is not None and _info(cols[7], "AN") is not None
    read = _values(info_af, line, "INFO AF") if info_af and not genotypes else None
    if read is not None:
        return _matched(read, n_alt, "INFO AF")
    if sample:
        for key, what in (
            ("AF", "FORMAT AF"),
            ("FREQ", "FORMAT FREQ"),
            ("ALT_FREQ", "FORMAT ALT_FREQ (iVar)"),
        ):
            read = _values(sample[key], line, what) if sample.get(key) else None
            if read is not None:
                return _matched(read, n_alt, what)
        if sample.get("AD", ".") != ".":
            parts = sample["AD"].split(",")
            if len(parts) != n_alt + 1:
                what = f"FORMAT AD (reference and alternatives) gives {len(parts)} count(s) for"
                return _Read([None] * n_alt, f"{what} {n_alt} alternative(s)")
            if not all(v.isdigit() or v == "." for v in parts):
                raise SequenceInputError(
                    f"VCF line {line}: FORMAT AD {sample['AD']!r} is not a list of read counts"
                )
            if "." in parts:  # a missing count: the total, so every fraction, is not known
                return _Read([None] * n_alt)
            depths = [int(v) for v in parts]
            return _Read(None, counts=(depths[0], tuple(depths[1:])), source="AD")
        alt_dp = sample.get("ALT_DP", ".")
        if alt_dp != ".":
            if n_alt != 1:
                return _Read([None] * n_alt, f"iVar ALT_DP gives 1 count for {n_alt} alternatives")
            ref_dp = _count(sample.get("REF_DP", "."), line, "FORMAT REF_DP")
            alt_reads = _count(alt_dp, line, "FORMAT ALT_DP")
            if ref_dp is not None and alt_reads is not None:
                return _Read(None, counts=(ref_dp, (alt_reads,)), source="iVar REF_DP/ALT_DP")
    dp4 = _info(cols[7], "DP4") if pooled_info else None
    if dp4:
        reads = [int(v) for v in dp4.split(",") if v.isdigit()]
        if len(reads) == 4 and sum(reads) > 0 and n_alt == 1:
            return _Read(None, counts=(reads[0] + reads[1], (reads[2] + reads[3],)), source="DP4")
    if genotypes:
        # no reads of the sample. VCF 4.2 §1.6.1 gives AC and AN as counts "in called
        # genotypes" and AF as estimated "from primary data, not called genotypes"; GATK and
        # freebayes write AF = AC/AN beside AN: which genotypes carry the allele (1.00 for a
        # haploid "1"), never the share of the viral population. An allele in the genotype (or,
        # without GT, of AF above 0) is present, frequency not given (review23c 3)
        read = _values(info_af, line, "INFO AF") if info_af else None
        if read is not None:
            matched = _matched(read, n_alt, "INFO AF")
            alleles = sample.get("GT", "").replace("|", "/").split("/") if sample else []
            present = [
                (str(k + 1) in alleles)
                if alleles and alleles != ["."] and "." not in alleles
                else f is None or f > 0
                for k, f in enumerate(matched.frequencies or [None] * n_alt)
            ]
            return _Read(
                [None if p else 0.0 for p in present], matched.mismatch, genotype_only=True
            )
    if sample and not pooled_info and "GT" in sample:
        alleles = sample["GT"].replace("|", "/").split("/")
        return _Read([None if str(k) in alleles else 0.0 for k in range(1, n_alt + 1)])
    return _Read(None)


def _depth(cols: list[str], sample: dict[str, str], line: int, pooled_info: bool) -> int | None:
    """The read depth the record states for the sample: FORMAT DP (or iVar's TOTAL_DP), else
    (one sample) INFO DP."""
    for key in ("DP", "TOTAL_DP"):
        if key in sample:
            found = _count(sample[key], line, f"FORMAT {key}")
            if found is not None:
                return found
    if pooled_info:
        info_dp = _info(cols[7], "DP")
        if info_dp is not None:
            return _count(info_dp, line, "INFO DP")
    return None


class _Counted(NamedTuple):
    """A variant whose frequency waits for its site's total depth."""

    at: int  # its index in the variants list
    reference: int  # reads of the reference allele on its record
    reads: int  # reads of its alternative
    depth: int | None  # DP stated by its record
    source: str


def _site_frequencies(
    variants: list[Variant], counted: list[_Counted], warnings: list[str]
) -> None:
    """The frequency of each variant read from counts, over the total depth at its site
    (VCF 4.2 §1.6.2: ``AD`` is the read depth of each allele, ``DP`` the read depth at the
    position): DP when the record gives it, and never less than the reads of every allele of the
    position — the reference once, each alternative of every record there once. A record split
    from a multi-allelic site (``bcftools norm -m-``: ``A>G 100,60`` and ``A>C 100,840``, DP
    1000) gives 60/1000 = 6 %, not 60/160 = 37.5 %. DP4 counts every non-reference base as
    "alt" (bcftools), so two DP4 records at one position cannot be told apart: frequency not
    given (ADR 0033-fix15a)."""
    by_site: dict[int, list[_Counted]] = {}
    for item in counted:
        by_site.setdefault(variants[item.at].position, []).append(item)
    ambiguous: list[str] = []
    for position, items in by_site.items():
        alleles: dict[tuple[str, str], int] = {}
        for item in items:
            key = (variants[item.at].ref, variants[item.at].alt)
            alleles[key] = max(item.reads, alleles.get(key, 0))
        reads = max(item.reference for item in items) + sum(alleles.values())
        split_dp4 = len(alleles) > 1 and sum(item.source == "DP4" for item in items) > 1
        if split_dp4:
            ambiguous.append(str(position))
        for item in items:
            total = max(reads, item.depth or 0)
            frequency: float | None = item.reads / total if total else 0.0
            if split_dp4 and item.source == "DP4":
                frequency = None
            variants[item.at] = variants[item.at]._replace(frequency=frequency, depth=total)
    if ambiguous:
        warnings.append(
            "several records at one position give their reads as INFO DP4 only, which counts "
            "every non-reference base as 'alt': the reads of each alternative are not known, "
            f"so their frequency is not given (POS {', '.join(ambiguous[:5])}"
            f"{' …' if len(ambiguous) > 5 else ''})"
        )


def _phases(sample: dict[str, str], n_alt: int) -> list[tuple[str, int] | None]:
    gt = sample.get("GT", "")
    if "|" not in gt:
        return [None] * n_alt
    sides = gt.split("|")
    phase_set = sample.get("PS", ".")
    result: list[tuple[str, int] | None] = []
    for k in range(1, n_alt + 1):
        where = [i for i, allele in enumerate(sides) if allele == str(k)]
        result.append((phase_set, where[0]) if len(where) == 1 else None)
    return result


def head_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` as ``str.splitlines`` gives them (blank ones aside), read lazily:
    the header of a 400 KiB VCF is found without splitting the whole file."""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        yield from text[start:end].splitlines()
        start = end + 1


def vcf_samples(text: str) -> tuple[str, ...]:
    """The sample names of the ``#CHROM`` header line (empty without one or without samples)."""
    for raw in head_lines(text):
        if raw.startswith("#CHROM"):
            return tuple(raw.rstrip("\r\n").split("\t")[9:])
        if raw and not raw.startswith("#"):
            break
    return ()


def _sample_column(text: str, sample: str | None) -> tuple[int, bool]:
    """The FORMAT column to read, and whether INFO frequencies describe this sample."""
    names = vcf_samples(text)
    if sample is None:
        if len(names) > 1:
            raise SequenceInputError(
                f"the VCF holds {len(names)} samples ({', '.join(names)}); choose one "
                "(--sample NAME) or read each as its own report"
            )
        return 9, True
    if sample not in names:
        listed = ", ".join(names) or "none named"
        raise SequenceInputError(f"the VCF has no sample {sample!r} (samples: {listed})")
    return 9 + names.index(sample), len(names) == 1


#: Line breaks other than ``\n`` that ``str.splitlines`` honours: a text holding any of them is
#: read line by line (the selection below counts lines by ``\n``).
_OTHER_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _genome_mask(intervals: tuple[tuple[int, int], ...], limit: int) -> bytearray:
    """The line filter's mask over the whole genome (1 where a record may touch a gene, and in
    the last ``_MASK_PAD`` bases, where a record may run past the end), memoised."""
    key = (intervals, limit)
    mask = _GENOME_MASKS.get(key)
    if mask is None:
        mask = _target_mask(intervals, limit)
        start = max(1, limit - _MASK_PAD)
        mask[start:] = b"\x01" * (len(mask) - start)
        _GENOME_MASKS[key] = mask
    return mask


_GENOME_MASKS: dict[tuple[tuple[tuple[int, int], ...], int], bytearray] = {}  # memo


Record = tuple[int, list[str]]  # (line number, the record's tab-separated columns)


class _Skipped:
    """The records left out unread because they lie outside the genes: their number and the
    (line, POS) of the first few, in file order."""

    __slots__ = ("count", "first")

    def __init__(self) -> None:
        self.count = 0
        self.first: list[tuple[int, str]] = []

    def add(self, line: int, pos: str) -> None:
        self.count += 1
        if len(self.first) < _EXAMPLES:
            self.first.append((line, pos))


_EXAMPLES = 5


def _select(
    text: str, accession: str, mask: bytearray, skipped: _Skipped
) -> tuple[list[Record], bool, int] | None:
    """(line number, columns) of every record the line filter of :func:`parse_vcf` would keep,
    whether a ``#CHROM`` line was seen, and the records' column count (the records left out
    are counted in ``skipped``), computed column-wise instead of one Python step per
    line; the kept records' columns are taken from that one split, never rebuilt and split again.

    The records (after the ``#`` header) are split on tabs once; when every record has the same
    number of columns, POS and REF of record ``j`` sit at fixed strides of that list, and that
    is proven, not assumed: each stride field must be a line break followed by ``accession``
    (there are as many line breaks as strides, so each line has exactly the same tab count).
    (So no blank or ``#`` line lies among them.) Anything else — another chromosome, a POS that
    is not a number, unequal columns, other line breaks — returns None and the text is read line by
    line, so that every error and warning stays exactly as the line loop gives it."""
    if any(mark in text for mark in _OTHER_BREAKS):
        return None
    body_start = 0
    while text.startswith("#", body_start):
        line_end = text.find("\n", body_start)
        if line_end < 0:
            return None
        body_start = line_end + 1
    body = text[body_start:]
    if body.endswith("\n"):
        body = body[:-1]
    if not body:
        return None
    count = body.count("\n") + 1
    per_line = body.count("\t", 0, body.find("\n"))  # the first record's tabs
    fields = body.split("\t")
    tabs = len(fields) - 1
    if per_line < 4 or tabs != per_line * count:
        return None
    tail = "\n" + accession
    if fields[0] != accession or not all(
        map(str.endswith, fields[per_line:tabs:per_line], repeat(tail))
    ):
        return None
    positions = fields[1::per_line]
    if not "".join(positions).isdigit():
        return None
    try:
        starts = list(map(int, positions))
    except ValueError:  # an empty POS
        return None
    if len(starts) < 2 or max(starts) >= len(mask):
        return None  # one record, or one past the genome's end: read line by line
    hit = set(compress(range(count), itemgetter(*starts)(mask)))
    lengths = list(map(len, fields[3::per_line]))
    if max(lengths) > _MASK_PAD or not min(lengths):  # a long or empty REF: rare
        hit.update(compress(range(count), map(_MASK_PAD.__lt__, lengths)))
        hit.update(compress(range(count), map(not_, lengths)))
    offset = text.count("\n", 0, body_start) + 1
    seen_header = text.startswith("#CHROM") or "\n#CHROM" in text[:body_start]
    skipped.count += count - len(hit)
    for j in range(count):
        if len(skipped.first) >= _EXAMPLES:
            break
        if j not in hit:
            skipped.first.append((offset + j, positions[j]))
    selected: list[Record] = []
    for j in sorted(hit):  # the columns of line j (its last one ends at the line break)
        first, last = j * per_line, (j + 1) * per_line
        cols = fields[first:last]
        cols[0] = accession
        cols.append(fields[last].partition("\n")[0])
        selected.append((offset + j, cols))
    return selected, seen_header, per_line + 1


def _whole(found: int, columns: int | None) -> bool:
    """Whether a line of ``found`` columns may be skipped unread: the header's width, or the
    8 fixed columns of a line without samples (a shorter line is refused, never skipped)."""
    return found == columns or found == 8 or (columns is None and found > 8)


def _line_records(
    text: str,
    accession: str,
    mask: bytearray | None,
    limit: int,
    header: list[bool],
    skipped: _Skipped,
    columns: int | None,
) -> Iterator[Record]:
    """The records of ``text`` read line by line (any shape :func:`_select` hands back), those
    surely outside ``mask`` skipped at the line unsplit (and counted in ``skipped``) unless their
    column count differs from the header's ``columns`` (a cut line is read, so refused);
    ``header[0]`` set on a ``#CHROM`` line."""
    width = len(mask) if mask is not None else 0
    prefix = accession + "\t"
    skip = len(prefix)
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith("#"):
            header[0] = header[0] or raw.startswith("#CHROM")
            continue
        if not raw:
            continue
        if mask is not None and raw.startswith(prefix):  # skip at the line
            t2 = raw.find("\t", skip)
            pos = raw[skip:t2]
            if pos.isdigit():
                start = int(pos)
                if start >= width or not mask[start]:
                    t3 = raw.find("\t", t2 + 1)
                    t4 = raw.find("\t", t3 + 1)
                    if (
                        t3 > 0
                        and 0 < t4 - t3 - 1 <= _MASK_PAD
                        and start + t4 - t3 - 2 <= limit
                        and _whole(raw.count("\t") + 1, columns)
                    ):
                        skipped.add(number, pos)
                        continue
        if raw.isspace():
            continue
        yield number, raw.split("\t")


def _header_width(text: str) -> int | None:
    """The number of columns of the ``#CHROM`` line (None without one)."""
    for raw in head_lines(text):
        if raw.startswith("#CHROM"):
            return raw.rstrip("\r\n").count("\t") + 1
        if raw and not raw.startswith("#"):
            break
    return None


def _cut_info(info: str) -> bool:
    """An INFO entry with a key and no value (``AC=``, ``DP=;``): a line cut short, or broken
    (VCF 4.2 §1.6.1: ``key=value`` pairs, flags without ``=``)."""
    return info.endswith("=") or "=;" in info


def _check_last_line(text: str, columns: int | None) -> None:
    """A file cut during writing ends inside a record, without a line break: that record
    is refused by line number (never read as a call) when it holds fewer columns than the
    header or an INFO entry without a value (probe15 S6)."""
    if not text or text.endswith(("\n", "\r")):
        return
    last = text[text.rfind("\n") + 1 :]
    if not last.strip() or last.startswith("#"):
        return
    number = text.count("\n") + 1
    cols = last.split("\t")
    if (columns is not None and len(cols) < columns) or len(cols) < 8 or _cut_info(cols[7]):
        raise SequenceInputError(
            f"VCF line {number} is cut short ({len(cols)} of {columns or 8} columns"
            f"{', INFO ' + repr(cols[7]) if len(cols) >= 8 else ''}) and the file ends without a "
            "line break: the file looks truncated; send the complete VCF"
        )
    cut = _cut_sample(cols)
    if cut:
        raise SequenceInputError(
            f"VCF line {number} is cut short ({cut}) and the file ends without a line break: "
            "the file looks truncated; send the complete VCF"
        )


def _cut_sample(cols: list[str]) -> str | None:
    """Why the last sample column of a record looks cut, or None (review23c 1). VCF 4.2 §1.6.2
    lets a sample drop trailing fields, so this is asked only of a file's last record when the
    file ends without a line break: ``GT:AD:DP 1:100,9`` (cut from ``1:100,900:1000``) would
    otherwise read M460V at 9 of 109 reads. Refused: fewer values than FORMAT keys, an empty
    last value or one ending in ``,``, or a last ``AD`` (Number=R) with fewer counts than
    alleles."""
    if len(cols) < 10 or not cols[8]:
        return None
    keys = cols[8].split(":")
    values = cols[-1].split(":")
    sample = f"sample {cols[-1]!r} for FORMAT {cols[8]!r}"
    if len(values) < len(keys):
        return f"{sample}: {len(values)} of {len(keys)} values"
    if not values[-1] or values[-1].endswith(","):
        return f"{sample}: its last value is empty or ends in ','"
    last_key = keys[len(values) - 1]
    if last_key == "AD" and len(values[-1].split(",")) < len(cols[4].split(",")) + 1:
        return f"{sample}: AD gives fewer counts than the record's alleles"
    return None


def parse_vcf(
    text: str,
    accession: str,
    *,
    genome_length: int | None = None,
    spans: Iterable[tuple[int, int]] | None = None,
    sample: str | None = None,
) -> VcfRead:
    """The variants of a VCF against ``accession`` (of one sample), warnings about what was
    left out, and the records outside ``spans`` (genome intervals of interest), skipped unread."""
    column, pooled_info = _sample_column(text, sample)
    columns = _header_width(text)
    _check_last_line(text, columns)
    intervals = tuple(sorted(spans)) if spans is not None else None
    mask = None
    if intervals is not None:
        mask = _MASKS.get(intervals)
        if mask is None:
            mask = _MASKS[intervals] = _target_mask(intervals, max(hi for _, hi in intervals))
    width = len(mask) if mask is not None else 0
    limit = genome_length if genome_length is not None else 1 << 62
    variants: list[Variant] = []
    counted: list[_Counted] = []
    filtered = no_frequency = 0
    symbolic: dict[str, int] = {}
    outside: list[str] = []
    unmatched: list[str] = []
    genotype_only: list[str] = []
    base = accession.split(".")[0]
    skipped = _Skipped()
    selected = None
    if intervals is not None and genome_length is not None:
        selected = _select(text, accession, _genome_mask(intervals, genome_length), skipped)
        if selected is not None and (selected[2] < 8 or (columns or 8) > selected[2] > 8):
            skipped = _Skipped()  # cut or FORMAT-without-sample lines: refused line by line
            selected = None
    header = [False]
    records: Iterable[Record]
    if selected is not None:
        records, header[0], _ = selected
    else:
        records = _line_records(text, accession, mask, limit, header, skipped, columns)
    for number, cols in records:
        if len(cols) < 5:
            raise SequenceInputError(
                f"VCF line {number}: expected at least 8 tab-separated columns"
            )
        chrom, pos, _, ref = cols[:4]
        if chrom != accession and chrom.split(".")[0] != base:
            raise SequenceInputError(
                f"VCF line {number}: chromosome {chrom!r} is not {accession}; call variants against "
                f"the reference {accession}"
            )
        if not pos.isdigit() or not ref.isalpha():
            raise SequenceInputError(f"VCF line {number}: unreadable POS {pos!r} or REF {ref!r}")
        start = int(pos)
        if genome_length is not None and start + len(ref) - 1 > genome_length:
            outside.append(pos)
            continue
        if len(cols) < 8 or (columns is not None and columns > len(cols) > 8):
            raise SequenceInputError(
                f"VCF line {number}: {len(cols)} tab-separated columns where "
                f"{'the header has ' + str(columns) if columns else 'at least 8 are expected'} "
                "(a line cut short?)"
            )
        if (
            intervals is not None
            and (start >= width or not mask[start])  # type: ignore[index]
            and (
                len(ref) <= _MASK_PAD
                or not any(start <= hi and start + len(ref) - 1 >= lo for lo, hi in intervals)
            )
        ):
            skipped.add(number, pos)
            continue  # outside the resistance genes: skipped at the line
        alts, filt = cols[4], cols[6]
        if _cut_info(cols[7]):
            raise SequenceInputError(
                f"VCF line {number}: INFO {cols[7]!r} has an entry without a value "
                "(a line cut short?)"
            )
        if filt not in ("PASS", "."):
            filtered += 1
            continue
        alt_list = alts.split(",")
        sample_fields = _sample_fields(cols, column)
        read = _frequencies(cols, sample_fields, len(alt_list), number, pooled_info)
        if read.mismatch:
            unmatched.append(f"line {number}: {read.mismatch} ({alts})")
        if read.genotype_only:
            genotype_only.append(str(number))
        counts = read.counts
        if counts is None and (read.frequencies is None or None in read.frequencies):
            no_frequency += 1
        frequencies: Sequence[float | None] = read.frequencies or [None] * len(alt_list)
        depth = _depth(cols, sample_fields, number, pooled_info)
        if depth is None and counts is not None:
            depth = counts[0] + sum(counts[1])
        phases = _phases(sample_fields, len(alt_list))
        for k, (alt, frequency, phase) in enumerate(
            zip(alt_list, frequencies, phases, strict=True)
        ):
            if alt in _SYMBOLIC_REFERENCE:
                continue
            if alt == "*" or alt.startswith("<") or not alt.isalpha():
                symbolic[alt] = symbolic.get(alt, 0) + 1
                continue
            if counts is not None:
                counted.append(_Counted(len(variants), counts[0], counts[1][k], depth, read.source))
            elif frequency is not None and frequency <= 0:
                continue
            variants.append(
                Variant(number, start, ref.upper(), alt.upper(), frequency, phase, depth)
            )
    if counted:
        site_warnings: list[str] = []
        _site_frequencies(variants, counted, site_warnings)
        variants = [v for v in variants if v.frequency is None or v.frequency > 0]
    else:
        site_warnings = []
    variants, repeated = _unique(variants)
    warnings = []
    if not header[0]:
        warnings.append(
            "the VCF has no '#CHROM' header line: its columns were read in VCF order "
            "(CHROM, POS, ID, REF, ALT, QUAL, FILTER, INFO)"
        )
    if filtered:
        warnings.append(f"{filtered} VCF record(s) failed their FILTER and were left out")
    if unmatched:
        warnings.append(
            f"{len(unmatched)} VCF record(s) give a number of allele frequencies that does not "
            "match their alternative alleles (one per alternative, VCF Number=A): the values "
            "cannot be matched to the alleles, so every alternative of the record is reported "
            "as 'frequency not given' ("
            + "; ".join(unmatched[:5])
            + (" …" if len(unmatched) > 5 else "")
            + ")"
        )
    if no_frequency:
        warnings.append(
            f"{no_frequency} VCF record(s) gave no allele frequency (no AF, FREQ, AD or DP4, the "
            "missing value '.', or values not matching the alleles) for some or all of their "
            "alternatives: "
            "their variants are reported as 'frequency not given', read as their own haplotype, "
            "and the drug calls they affect are flagged"
        )
    if genotype_only:
        warnings.append(
            f"{len(genotype_only)} VCF record(s) give only INFO AF beside AN (AC/AN, the allele "
            "frequency in called genotypes, VCF 4.2 §1.6.1), no reads of the sample (AD, DP4, "
            "FREQ): "
            "that AF says which genotypes carry the allele, not its share of the viral "
            "population, so their variants are called present by the genotype with frequency "
            "not given (lines "
            + ", ".join(genotype_only[:5])
            + (" …" if len(genotype_only) > 5 else "")
            + ")"
        )
    if symbolic:
        kinds = ", ".join(f"{alt!r} ×{n}" for alt, n in sorted(symbolic.items()))
        warnings.append(
            f"symbolic or unresolved alleles in the resistance genes were not interpreted ({kinds}): "
            "a deletion or rearrangement there may be missed; resolve them to sequence"
        )
    if outside:
        warnings.append(
            f"{len(outside)} VCF record(s) lie outside {accession} (1-{genome_length}) and were "
            f"left out (POS {', '.join(outside[:5])}{' …' if len(outside) > 5 else ''})"
        )
    warnings += site_warnings + repeated
    return VcfRead(variants, warnings, skipped.count, tuple(pos for _, pos in skipped.first))


def _unique(variants: list[Variant]) -> tuple[list[Variant], list[str]]:
    """Each variant (POS, REF, ALT) once: a record repeated (a file concatenated twice, a
    merge) would otherwise add its frequency again. Copies that agree are read once; copies
    that give different frequencies keep the highest (a copy showing it above the threshold is
    not dropped, none is invented; one without a frequency leaves it 'frequency not given').
    Both are warned about, naming the lines (probe15 A3)."""
    first: dict[tuple[int, str, str], int] = {}
    repeats: dict[int, list[Variant]] = {}
    kept: list[Variant] = []
    for variant in variants:
        key = (variant.position, variant.ref, variant.alt)
        at = first.get(key)
        if at is None:
            first[key] = len(kept)
            kept.append(variant)
        else:
            repeats.setdefault(at, []).append(variant)
    if not repeats:
        return variants, []
    examples: list[str] = []
    differ = 0
    for at, copies in repeats.items():
        original = kept[at]
        given = [v.frequency for v in (original, *copies)]
        if len(set(given)) > 1:
            differ += 1
            known = [f for f in given if f is not None]
            kept[at] = original._replace(frequency=max(known) if len(known) == len(given) else None)
        if len(examples) < _EXAMPLES:
            lines = ", ".join(str(v.line) for v in (original, *copies))
            examples.append(f"{original.position} {original.ref}>{original.alt} (lines {lines})")
    more = " …" if len(repeats) > _EXAMPLES else ""
    text = (
        f"{len(repeats)} variant(s) are given by more than one VCF record: each is read once, "
        f"never added up ({'; '.join(examples)}{more})"
    )
    if differ:
        text += (
            f"; {differ} of them with different frequencies: the highest is reported (which "
            "record is right is not known; check the pipeline)"
        )
    return kept, [text]
