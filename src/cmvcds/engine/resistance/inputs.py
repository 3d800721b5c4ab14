"""What an uploaded file is, told from its content rather than its name (issue 18).

A laboratory uploads what its pipeline wrote: ``sample.vcf.gz`` renamed ``sample.vcf``, a VCF
whose ``##`` meta lines were stripped, a FASTA. The bytes decide: gzip by its magic number
(``1f 8b``, RFC 1952 §2.3.1), VCF by a ``##fileformat=VCF``/``#CHROM`` line or, without them, by
data lines in VCF column order (CHROM, numeric POS, ID, REF, ALT, QUAL, FILTER, INFO), FASTA by a
first ``>`` line. Anything else is refused by name, never guessed.
"""

from __future__ import annotations

import re
import zlib

from cmvcds.engine.resistance.vcf import head_lines
from cmvcds.errors import SequenceInputError

__all__ = ["read_upload", "sniff"]

_GZIP_MAGIC = b"\x1f\x8b"
_VCF_LINE = re.compile(r"^[^\t#>]+\t\d+\t[^\t]*\t[A-Za-z]+\t[^\t]+\t[^\t]*\t[^\t]*\t[^\t]*")
MAX_BYTES = 50_000_000


def sniff(text: str) -> str | None:
    """``"vcf"``, ``"fasta"`` or None, from the first meaningful line(s) of ``text``."""
    for line in head_lines(text):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("##fileformat=VCF") or stripped.startswith("#CHROM"):
            return "vcf"
        if stripped.startswith(">"):
            return "fasta"
        if stripped.startswith("##"):
            continue
        return "vcf" if _VCF_LINE.match(line) else None
    return None


def read_upload(data: bytes) -> tuple[str, str]:
    """(kind, text) of an uploaded file: gunzipped when its bytes are gzip, then sniffed."""
    if data[:2] == _GZIP_MAGIC:
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip wrapper; bounded output
        try:
            data = inflate.decompress(data, MAX_BYTES + 1)
        except zlib.error as error:
            raise SequenceInputError(
                f"the file is gzip but cannot be decompressed: {error}"
            ) from None
        if len(data) > MAX_BYTES:
            raise SequenceInputError(f"the decompressed file exceeds {MAX_BYTES:,} bytes")
    text = data.decode("utf-8", errors="replace")
    kind = sniff(text)
    if kind is None:
        raise SequenceInputError(
            "the file is neither FASTA (a first line starting with '>') nor VCF (a '#CHROM' "
            "header or tab-separated CHROM POS ID REF ALT QUAL FILTER INFO columns)"
        )
    return kind, text
