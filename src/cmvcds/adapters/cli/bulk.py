"""``cmvcds assess-bulk INPUT``: a population's NDJSON cases assessed, NDJSON out, with a summary."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

from cmvcds.adapters.cli.common import exits_on_error, knowledge_pack, read_settings, today
from cmvcds.errors import InputError

if TYPE_CHECKING:
    from cmvcds.adapters.bulk import Job, Summary


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

    A bad line gives a cmvcds-bulk-error/1 record with its line number and the problem; the run goes on. Exit code 2 when any line was refused, 0 when all were assessed.
    """
    from cmvcds.adapters.bulk import Job

    with exits_on_error():
        knowledge = knowledge_pack()
        chosen = settings or (
            Path(os.environ["CMVCDS_SETTINGS"]) if os.environ.get("CMVCDS_SETTINGS") else None
        )
        read_settings(chosen, knowledge)  # a bad settings file stops here, before any output
        job = Job(
            today=today(),
            knowledge_path=os.environ.get("CMVCDS_KNOWLEDGE") or None,
            settings_path=str(chosen) if chosen else None,
            fhir_context=context,
        )
        if input != "-" and Path(input).is_dir():
            if context is None:
                raise InputError(
                    "a FHIR export folder needs --context (the export does not say it)",
                    field="--context",
                )
            result = _fhir_export(Path(input), output, job, workers, dask, quiet)
        else:
            if context is not None:
                raise InputError(
                    "--context is for a FHIR export folder; a case line carries its own",
                    field="--context",
                )
            result = _ndjson(input, output, job, workers, dask, chunk_size, quiet)
        text = (
            json.dumps(result.to_dict(), indent=2)
            if summary_format is SummaryFormat.JSON
            else result.to_text()
        )
        if summary is None:
            sys.stderr.write(text if text.endswith("\n") else text + "\n")
        else:
            summary.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
    if result.errors:
        raise typer.Exit(2)


def _fhir_export(
    folder: Path, output: Path | None, job: Job, workers: int, dask: str | None, quiet: bool
) -> Summary:
    from cmvcds.adapters.bulk import assess_fhir_export

    sink = sys.stdout if output is None else output.open("w", encoding="utf-8")
    try:
        return assess_fhir_export(
            folder, sink, job, workers=workers, dask=dask, progress=None if quiet else sys.stderr
        )
    finally:
        if sink is not sys.stdout:
            sink.close()


def _ndjson(
    input: str,
    output: Path | None,
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
    sink = sys.stdout if output is None else output.open("w", encoding="utf-8")
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
        if sink is not sys.stdout:
            sink.close()
