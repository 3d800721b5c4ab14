"""``cmvcds assess CASE`` and ``cmvcds validate CASE``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmvcds.adapters.cli.assess_case import AssessFormat, assess_case
from cmvcds.adapters.cli.common import emit, exits_on_error, knowledge_pack, read_case_file, today
from cmvcds.errors import CaseFormatError

CaseArg = Annotated[
    Path, typer.Argument(help="Case file (YAML or JSON, cmvcds-case/1).", show_default=False, readable=False)
]
SettingsOpt = Annotated[
    Path | None,
    typer.Option("--settings", help="Site settings file (default: $CMVCDS_SETTINGS).", readable=False),
]


def assess(
    case: CaseArg,
    format: Annotated[
        AssessFormat, typer.Option("--format", help="Output format.")
    ] = AssessFormat.TEXT,
    settings: SettingsOpt = None,
) -> None:
    """Assess a case: decisions, regimens, dates, alerts and missing data, each cited."""
    assess_case(case, format, settings)


def validate(case: CaseArg) -> None:
    """Check a case file against the case format; one line per problem (exit code 2 if any)."""
    from cmvcds.domain.case import parse_case

    with exits_on_error():
        raw = read_case_file(case)
        knowledge = knowledge_pack()
        try:
            parse_case(raw, knowledge, today=today())
        except CaseFormatError as error:
            for line in getattr(error, "problems", [str(error)]):
                typer.echo(f"{case}: {line}", err=True)
            raise typer.Exit(2) from None
        emit(f"{case}: valid cmvcds-case/1")
