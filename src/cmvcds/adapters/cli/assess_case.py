"""The work of ``cmvcds assess``, without Typer: the Typer command (``case_commands``) and the
console script's fast path (``argv``) both call ``assess_case``, so they print the same bytes."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path

from cmvcds.adapters.cli.common import (
    emit,
    exits_on_error,
    knowledge_pack,
    read_case_file,
    read_settings,
    today,
)

__all__ = ["AssessFormat", "assess_case"]


class AssessFormat(StrEnum):
    JSON = "json"
    TEXT = "text"
    HTML = "html"
    FHIR = "fhir"


def assess_case(case: Path, format: AssessFormat, settings: Path | None) -> None:
    """Assess the case file ``case`` and print it in ``format``; errors exit as
    ``exits_on_error`` says."""
    with exits_on_error():
        raw = read_case_file(case)  # a hostile file is refused before the engine is loaded
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
            from cmvcds.adapters.report.text import assessment_text

            emit(assessment_text(document))
