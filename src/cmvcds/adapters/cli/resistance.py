"""``cmvcds resistance``: the resistance report for a mutation list, a FASTA, a VCF or a batch.

Batch file (``--batch``): no header, ``#`` starts a comment; each line is either
``sample_id<TAB>mutations[<TAB>genes_tested]`` or the path of a FASTA or VCF file (the path as
written is the sample id; relative paths are read from the working directory, else next to the
batch file). JSON output is one report per line; text output is a summary table. A sample that
cannot be read gives a line with its ``error`` and the batch goes on (exit code 2 at the end).

Files are told apart by their content, not their name (gzip by its magic bytes, VCF by its
header or its columns, FASTA by ``>``). A VCF of several samples gives one report per sample
(``--sample NAME`` picks one); in a batch its ``sample_id`` is ``path#NAME``. Never only the first.
"""

from __future__ import annotations

import gzip
import json
import time
import zlib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cmvcds.adapters.cli.common import emit, exits_on_error, knowledge_pack, read_bounded, write_pdf
from cmvcds.errors import CmvcdsError, InputError, SequenceInputError
from cmvcds.knowledge import Knowledge

if TYPE_CHECKING:
    from cmvcds.engine.resistance import ResistanceReport


PROGRESS_EVERY = 100


class Virus(StrEnum):
    """The viruses of the report (engine/resistance/viruses.py)."""

    CMV = "cmv"
    HSV1 = "hsv1"
    HSV2 = "hsv2"
    VZV = "vzv"


class ResistanceFormat(StrEnum):
    JSON = "json"
    TEXT = "text"
    HTML = "html"
    PDF = "pdf"  # the HTML report printed by headless chromium, bytes to stdout
    SVG = "svg"  # the lollipop plots (mutations over each gene with frequency)


#: Formats that render one sample.
SINGLE = (ResistanceFormat.HTML, ResistanceFormat.PDF, ResistanceFormat.SVG)


#: The largest sequence file read (a VCF of a deep-sequenced genome; the API's VCF bound).
MAX_SEQUENCE_BYTES = 20_000_000


def _read(path: Path, what: str) -> str:
    """The text of a FASTA/VCF/TSV file (gzip allowed), refused past ``MAX_SEQUENCE_BYTES``
    decompressed — a gzip bomb stops there — or when it is not UTF-8."""
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rb") as handle:
                data = handle.read(MAX_SEQUENCE_BYTES + 1)
        else:
            data = read_bounded(path, MAX_SEQUENCE_BYTES, what)
        if len(data) > MAX_SEQUENCE_BYTES:
            raise InputError(f"{path}: larger than the {MAX_SEQUENCE_BYTES:,} bytes accepted")
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: not UTF-8 (byte at offset {error.start}); save the {what} as UTF-8"
        ) from None
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(
            f"cannot read {what} {path}: {getattr(error, 'strerror', None) or error}"
        ) from None


def _genes(text: str | None) -> list[str] | None:
    return [g for g in text.replace(";", ",").split(",") if g.strip()] if text else None


def _read_sequence(path: Path, what: str, expected: str | None = None) -> tuple[str, str]:
    """(kind, text) of a FASTA or VCF file, gzip or not, told apart by its content."""
    from cmvcds.engine.resistance import read_upload

    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {what} {path}: {error.strerror or error}") from None
    try:
        kind, text = read_upload(data)
    except CmvcdsError as error:
        raise InputError(f"{path}: {error}") from None
    if expected is not None and kind != expected:
        raise InputError(f"{path} is a {kind.upper()} file, not {expected.upper()}; use --{kind}")
    return kind, text


def _sequence_file(
    path: Path,
    knowledge: Knowledge,
    genes: list[str] | None,
    threshold: float | None,
    sample: str | None = None,
    expected: str | None = None,
    virus: str = "cmv",
    min_depth: int | None = None,
) -> dict[str, ResistanceReport]:
    """The report(s) of a FASTA or VCF file: one per VCF sample (``""`` for a FASTA or a VCF of
    one sample), or only ``sample``'s."""
    from cmvcds.engine.resistance import interpret_fasta, interpret_vcf, interpret_vcf_samples

    kind, text = _read_sequence(path, expected.upper() if expected else "file", expected)
    if kind == "fasta":
        return {"": interpret_fasta(text, knowledge, genes_tested=genes, virus=virus)}
    if sample is not None:
        report = interpret_vcf(
            text,
            knowledge,
            threshold=threshold,
            genes_tested=genes,
            sample=sample,
            virus=virus,
            min_depth=min_depth,
        )
        return {sample: report}
    reports = interpret_vcf_samples(
        text, knowledge, threshold=threshold, genes_tested=genes, virus=virus, min_depth=min_depth
    )
    return reports if len(reports) > 1 else {"": next(iter(reports.values()))}


def resistance(
    mutations: Annotated[
        str | None, typer.Option("--mutations", help='Mutation list, e.g. "UL97:M460V,UL54:A809V".')
    ] = None,
    fasta: Annotated[
        Path | None, typer.Option("--fasta", help="FASTA: gene, amplicon(s) or whole genome.")
    ] = None,
    vcf: Annotated[
        Path | None,
        typer.Option("--vcf", help="VCF against the virus's RefSeq (CMV: NC_006273.2)."),
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option("--batch", help="TSV of sample_id<TAB>mutations, or FASTA/VCF paths."),
    ] = None,
    genes_tested: Annotated[
        str | None, typer.Option("--genes-tested", help='Genes sequenced, e.g. "UL97,UL54".')
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", help="Reporting threshold for NGS variants (default 0.10)."),
    ] = None,
    sample: Annotated[
        str | None,
        typer.Option("--sample", help="The sample of a multi-sample VCF (default: each one)."),
    ] = None,
    min_depth: Annotated[
        int | None,
        typer.Option(
            "--min-depth",
            min=1,
            help="Minimum read depth to call an NGS variant (default: the pack's reference, 100).",
        ),
    ] = None,
    virus: Annotated[
        Virus,
        typer.Option(
            "--virus",
            help="cmv (NC_006273.2), hsv1 (NC_001806.2), hsv2 (NC_001798.2) or vzv (NC_001348.1).",
        ),
    ] = Virus.CMV,
    format: Annotated[
        ResistanceFormat, typer.Option("--format", help="Output format.")
    ] = ResistanceFormat.TEXT,
) -> None:
    """Per-drug resistance report (levels, fold changes, mutations, evidence) from a genotype."""
    from cmvcds.adapters.report.resistance_html import (
        lollipop_svg,
        resistance_html,
        resistance_text,
    )
    from cmvcds.engine.resistance import interpret_mutations

    with exits_on_error():
        given = [
            name
            for name, value in (
                ("--mutations", mutations),
                ("--fasta", fasta),
                ("--vcf", vcf),
                ("--batch", batch),
            )
            if value is not None
        ]
        if len(given) != 1:
            raise InputError(
                "give exactly one of --mutations, --fasta, --vcf or --batch"
                + (f" (got {', '.join(given)})" if given else "")
            )
        knowledge = knowledge_pack()
        genes = _genes(genes_tested)
        if batch is not None:
            if format in SINGLE:
                raise InputError(
                    f"--format {format.value} renders one sample; use json or text with --batch"
                )
            failed = _run_batch(
                batch, knowledge, genes, threshold, format, sample, virus.value, min_depth
            )
            if failed:
                raise typer.Exit(2)
            return
        if sample is not None and vcf is None and batch is None:
            raise InputError("--sample names a sample of a multi-sample VCF: give --vcf")
        if mutations is not None:
            reports = {
                "": interpret_mutations(
                    mutations, genes, knowledge, threshold=threshold, virus=virus.value
                )
            }
        elif fasta is not None:
            reports = _sequence_file(
                fasta, knowledge, genes, threshold, expected="fasta", virus=virus.value
            )
        else:
            assert vcf is not None
            reports = _sequence_file(
                vcf,
                knowledge,
                genes,
                threshold,
                sample,
                expected="vcf",
                virus=virus.value,
                min_depth=min_depth,
            )
        if len(reports) > 1 and format in SINGLE:
            raise InputError(
                f"the VCF holds samples {', '.join(reports)}: --format {format.value} renders "
                "one; choose it with --sample NAME"
            )
        for name, report in reports.items():
            document = {"sample_id": name, **report.to_dict()} if name else report.to_dict()
            if format is ResistanceFormat.JSON:
                emit(
                    json.dumps(document, indent=None if len(reports) > 1 else 2, ensure_ascii=False)
                )
            elif format is ResistanceFormat.HTML:
                emit(resistance_html(document, knowledge))
            elif format is ResistanceFormat.SVG:
                emit(lollipop_svg(document, knowledge))
            elif format is ResistanceFormat.PDF:
                write_pdf(resistance_html(document, knowledge))
            else:
                emit(resistance_text(document))


def _batch_items(path: Path) -> list[tuple[int, list[str]]]:
    items = []
    for number, line in enumerate(_read(path, "batch file").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        items.append((number, line.rstrip("\r\n").split("\t")))
    return items


def _sample(
    fields: list[str],
    base: Path,
    knowledge: Knowledge,
    genes: list[str] | None,
    threshold: float | None,
    sample: str | None,
    virus: str,
    min_depth: int | None = None,
) -> list[tuple[str, ResistanceReport]]:
    from cmvcds.engine.resistance import interpret_mutations

    if len(fields) >= 2:
        sample_id, listed = fields[0].strip(), fields[1]
        tested = _genes(fields[2]) if len(fields) > 2 and fields[2].strip() else genes
        try:
            report = interpret_mutations(
                listed, tested, knowledge, threshold=threshold, virus=virus
            )
        except SequenceInputError as error:
            if not _looks_like_path(listed, base):
                raise
            raise SequenceInputError(
                f"{error}. The line reads as 'sample_id<TAB>mutations', but {listed.strip()!r} "
                "looks like a file: a VCF or FASTA file is given by its path alone on its line "
                "(the sample id is then the path, or path#sample for each sample of a VCF)"
            ) from None
        return [(sample_id, report)]
    written = fields[0].strip()
    path = Path(written)
    if not path.is_absolute() and not path.exists():
        path = base / written
    reports = _sequence_file(
        path, knowledge, genes, threshold, sample, virus=virus, min_depth=min_depth
    )
    return [(f"{written}#{name}" if name else written, r) for name, r in reports.items()]


_FILE_ENDINGS = (".vcf", ".vcf.gz", ".fa", ".fasta", ".fas", ".fna", ".gz", ".txt", ".tsv")


def _looks_like_path(text: str, base: Path) -> bool:
    """Whether a batch line's mutation column is rather a file path (a misread line form)."""
    written = text.strip()
    if not written or "," in written or ":" in written.partition("/")[0]:
        return False
    if "/" in written or "\\" in written or written.lower().endswith(_FILE_ENDINGS):
        return True
    return (base / written).is_file() or Path(written).is_file()


def _run_batch(
    path: Path,
    knowledge: Knowledge,
    genes: list[str] | None,
    threshold: float | None,
    format: ResistanceFormat,
    sample: str | None = None,
    virus: str = "cmv",
    min_depth: int | None = None,
) -> int:
    from cmvcds.adapters.report.resistance_html import resistance_summary_row

    items = _batch_items(path)
    failed = 0
    rows: list[list[str]] = []
    drugs: list[str] = []
    started = time.perf_counter()
    for done, (number, fields) in enumerate(items, start=1):
        sample_id = fields[0].strip()
        documents: list[dict[str, Any]]
        try:
            documents = [
                {"sample_id": name, **report.to_dict()}
                for name, report in _sample(
                    fields, path.parent, knowledge, genes, threshold, sample, virus, min_depth
                )
            ]
        except CmvcdsError as error:
            failed += 1
            documents = [{"sample_id": sample_id, "error": f"line {number}: {error}"}]
        for document in documents:
            if format is ResistanceFormat.JSON:
                emit(json.dumps(document, ensure_ascii=False))
            elif "error" in document:
                rows.append([document["sample_id"], f"ERROR {document['error']}"])
            else:
                drugs = drugs or list(document["drugs"])
                rows.append(resistance_summary_row(document, drugs))
        if len(items) > PROGRESS_EVERY and (done % PROGRESS_EVERY == 0 or done == len(items)):
            typer.echo(
                f"resistance batch: {done}/{len(items)} samples, {time.perf_counter() - started:.1f} s",
                err=True,
            )
    if format is ResistanceFormat.TEXT:
        emit(_table(["sample_id", *drugs, "mutations"], rows))
    if failed:
        typer.echo(
            f"resistance batch: {failed} of {len(items)} samples could not be interpreted", err=True
        )
    return failed


def _table(header: list[str], rows: list[list[str]], virus: str = "cmv") -> str:
    widths = [
        max(len(r[i]) if i < len(r) else 0 for r in [header, *rows]) for i in range(len(header))
    ]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in [header, *rows]
    ]
    legend = (
        "levels: S susceptible, LOW low-level, MOD moderate, HIGH high-level, UNK unknown, "
        "NA not assessed; + "
        + (
            "combined effect of UL97 and UL54 mutations not measured, likely higher, or "
            if virus == "cmv"
            else ""
        )
        + "a measured combination whose mutations were not shown to share genomes; "
        "? the call depends on a variant whose frequency the VCF does not give; "
        "* a resistance mutation for the drug was seen below the reporting threshold; "
        "! a variant at a resistance codon of the drug was read below the minimum depth "
        "(named after the mutations, 'not called'); "
        "~ the call depends on a variant whose VCF record gives no read depth"
    )
    return "\n".join([*lines, "", legend])
