"""``cmvcds assess-bulk INPUT``: a population's NDJSON cases assessed, NDJSON out, with a summary."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, TextIO

import typer

from cmvcds.adapters.cli.common import (
    exits_on_error,
    knowledge_pack,
    read_bounded,
    today,
)
from cmvcds.errors import InputError

if TYPE_CHECKING:
    from cmvcds.adapters.bulk import Job, Summary
    from cmvcds.knowledge import Knowledge


class SummaryFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def assess_bulk(
    input: Annotated[
        str,
        typer.Argument(
            help="NDJSON file, one cmvcds-case/1 JSON per line ('-' for standard input), or a "
            "FHIR Bulk Data $export folder (*.ndjson: Patient, Observation, MedicationRequest…; "
            "needs --context).",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where the NDJSON assessments go (default: stdout)."),
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option("--summary", help="Write the summary here (default: standard error)."),
    ] = None,
    summary_format: Annotated[
        SummaryFormat, typer.Option("--summary-format", help="Summary as a table or JSON.")
    ] = SummaryFormat.TEXT,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Processes on this machine (or Dask workers).")
    ] = 1,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            help="Run on a Dask cluster: its scheduler address (tcp://host:8786), or 'local'.",
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Cases sent to a worker at a time.")
    ] = 200,
    settings: Annotated[
        Path | None,
        typer.Option("--settings", help="Site settings file (default: $CMVCDS_SETTINGS)."),
    ] = None,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            help="For a FHIR export folder: the clinical context of its patients "
            "(pregnancy, congenital, transplant, hiv, immunocompromised, immunocompetent).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress line.")] = False,
) -> None:
    """Assess every case of an NDJSON file: one assessment (or error record) per line, in order.

    A bad line gives a cmvcds-bulk-error/1 record with its line number and the problem; the run goes on. A line whose case id an earlier assessed line had is refused as a duplicate (duplicate_of: that line), and the summary lists the duplicates. Exit code 2 when any line was refused, 0 when all were assessed.
    """
    from cmvcds.adapters.bulk import Job

    with exits_on_error():
        folder = Path(input) if input != "-" and Path(input).is_dir() else None
        _check_context(context, folder)
        _check_paths(input, folder, output, summary)
        knowledge = knowledge_pack()
        chosen = settings or (
            Path(os.environ["CMVCDS_SETTINGS"]) if os.environ.get("CMVCDS_SETTINGS") else None
        )
        text = None if chosen is None else _settings_text(chosen, knowledge)
        job = Job(
            today=today(),
            knowledge_path=os.environ.get("CMVCDS_KNOWLEDGE") or None,
            settings_path=str(chosen) if chosen else None,
            fhir_context=context,
            settings_text=text,
            pack_sha256=knowledge.sha256,
        )
        with _Output(output) as sink:
            if folder is not None:
                result = _fhir_export(folder, sink, job, workers, dask, quiet)
            else:
                result = _ndjson(input, sink, job, workers, dask, chunk_size, quiet)
        table = (
            json.dumps(result.to_dict(), indent=2)
            if summary_format is SummaryFormat.JSON
            else result.to_text()
        )
        table += "" if table.endswith("\n") else "\n"
        if summary is None:
            sys.stderr.write(table)
        else:
            try:
                summary.write_text(table, encoding="utf-8")
            except OSError as error:
                raise InputError(
                    f"cannot write the summary to {summary}: {error.strerror}", field="--summary"
                ) from None
    if result.errors:
        raise typer.Exit(2)


def _settings_text(chosen: Path, knowledge: Knowledge) -> bytes:
    """The settings file's bytes, read once and checked here (a bad file stops the run before
    any output); the workers get these bytes, not the path, so that every worker of the run —
    on any machine, in a cluster that outlives the run — applies the same settings."""
    from cmvcds.domain.documents import DEFAULT_LIMITS, parse_document
    from cmvcds.domain.settings import parse_settings

    data = read_bounded(chosen, DEFAULT_LIMITS.max_bytes, "settings file")
    parse_settings(parse_document(data, str(chosen), "yaml"), knowledge, origin=str(chosen))
    return data


def _check_context(context: str | None, folder: Path | None) -> None:
    """``--context`` goes with an export folder, and only with one, and must be a context."""
    from cmvcds.domain.vocabulary import Context

    if folder is None:
        if context is not None:
            raise InputError(
                "--context is for a FHIR export folder; a case line carries its own",
                field="--context",
            )
        return
    if context is None:
        raise InputError(
            "a FHIR export folder needs --context (the export does not say it)",
            field="--context",
        )
    accepted = [c.value for c in Context]
    if context not in accepted:
        raise InputError(
            f"--context {context!r} is not a context; expected one of {', '.join(accepted)}",
            field="--context",
        )


def _check_paths(
    input: str, folder: Path | None, output: Path | None, summary: Path | None
) -> None:
    """Before anything is read: the output and the summary must not overwrite the input or each
    other, the output must not land among the export's files (it would be read back as input),
    and both must go to a folder that can be written — a population run must not end, an hour
    later, on a path it could have refused at once, or destroy what it was reading."""
    source = None if input == "-" else Path(input)
    written = [(o, f) for o, f in ((output, "--output"), (summary, "--summary")) if o is not None]
    for path, field in written:
        if source is not None and _same(path, source):
            raise InputError(f"{path} is the input; choose another file", field=field)
        if folder is not None and path.name.endswith(".ndjson") and _same(path.parent, folder):
            raise InputError(
                f"{path} is inside the export folder {folder}, whose *.ndjson files are read "
                "as the export; write it elsewhere",
                field=field,
            )
        parent = path.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise InputError(f"cannot write {path}: no writable folder {parent}", field=field)
    if output is not None and summary is not None and _same(output, summary):
        raise InputError("--summary and --output name the same file", field="--summary")


def _same(a: Path, b: Path) -> bool:
    """One file or folder by two names (a link, ``..``, a hard link), or the same path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


class _Output:
    """Standard output, or ``OUT`` written as ``OUT.partial`` and renamed when the run ends: a
    file under the asked name is always a whole run; one cut short (killed, interrupted) stays
    ``OUT.partial`` and says so by its name."""

    def __init__(self, output: Path | None) -> None:
        self.output = output
        self.partial = None if output is None else output.with_name(output.name + ".partial")

    def __enter__(self) -> TextIO:
        if self.partial is None:
            return sys.stdout
        try:
            self.sink: TextIO = self.partial.open("w", encoding="utf-8")
        except OSError as error:
            raise InputError(
                f"cannot write {self.partial}: {error.strerror}", field="--output"
            ) from None
        return self.sink

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if self.partial is None or self.output is None:
            return
        self.sink.close()
        if kind is None:
            os.replace(self.partial, self.output)
        elif issubclass(kind, InputError) and self.partial.stat().st_size == 0:
            self.partial.unlink()  # refused before any line: nothing to keep
        else:
            sys.stderr.write(f"the run did not finish: what was written is in {self.partial}\n")


def _fhir_export(
    folder: Path, sink: TextIO, job: Job, workers: int, dask: str | None, quiet: bool
) -> Summary:
    from cmvcds.adapters.bulk import assess_fhir_export

    return assess_fhir_export(
        folder, sink, job, workers=workers, dask=dask, progress=None if quiet else sys.stderr
    )


def _ndjson(
    input: str,
    sink: TextIO,
    job: Job,
    workers: int,
    dask: str | None,
    chunk_size: int,
    quiet: bool,
) -> Summary:
    from cmvcds.adapters.bulk import assess_bulk as run

    source: IO[bytes]
    if input == "-":
        source, total = sys.stdin.buffer, None
    else:
        path = Path(input)
        try:
            source, total = path.open("rb"), path.stat().st_size
        except OSError as error:
            raise InputError(f"cannot read {path}: {error.strerror}", field="INPUT") from None
    try:
        return run(
            source,
            sink,
            job,
            workers=workers,
            dask=dask,
            chunk_size=chunk_size,
            total_bytes=total,
            progress=None if quiet else sys.stderr,
        )
    finally:
        if source is not sys.stdin.buffer:
            source.close()
