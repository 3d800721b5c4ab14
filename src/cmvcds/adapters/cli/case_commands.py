"""``cmvcds assess CASE`` and ``cmvcds validate CASE``."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cmvcds.adapters.cli.common import (
    emit,
    exits_on_error,
    knowledge_pack,
    read_case_file,
    read_settings,
    today,
)
from cmvcds.errors import CaseFormatError


class AssessFormat(StrEnum):
    JSON = "json"
    TEXT = "text"
    HTML = "html"
    FHIR = "fhir"


CaseArg = Annotated[
    Path, typer.Argument(help="Case file (YAML or JSON, cmvcds-case/1).", show_default=False)
]
SettingsOpt = Annotated[
    Path | None, typer.Option("--settings", help="Site settings file (default: $CMVCDS_SETTINGS).")
]


def assess(
    case: CaseArg,
    format: Annotated[
        AssessFormat, typer.Option("--format", help="Output format.")
    ] = AssessFormat.TEXT,
    settings: SettingsOpt = None,
) -> None:
    """Assess a case: decisions, regimens, dates, alerts and missing data, each cited."""
    with exits_on_error():
        raw = read_case_file(case)  # a hostile file is refused before the engine is loaded
        from cmvcds.adapters.report.text import assessment_text
        from cmvcds.assess import assess as run_assessment
        from cmvcds.domain.case import parse_case

        knowledge = knowledge_pack()
        parsed = parse_case(raw, knowledge, today=today())
        document = run_assessment(
            parsed, knowledge, settings=read_settings(settings, knowledge)
        ).to_dict()
        if format is AssessFormat.JSON:
            emit(json.dumps(document, indent=2, ensure_ascii=False))
        elif format is AssessFormat.FHIR:
            from cmvcds.adapters.fhir.guidance import assessment_bundle

            bundle = assessment_bundle(
                document,
                patient=None,
                now=str(document["assessed_on"]),
                base_url=os.environ.get("CMVCDS_PUBLIC_URL", "http://localhost:8000").rstrip("/"),
            )
            emit(json.dumps(bundle, indent=2, ensure_ascii=False))
        elif format is AssessFormat.HTML:
            from cmvcds.adapters.report.html import assessment_html

            emit(assessment_html(document))
        else:
            emit(assessment_text(document))


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
