"""The work of ``cmvcds assess``, without Typer: the Typer command (``case_commands``) and the
console script's fast path (``argv``) both call ``assess_case``, so they print the same bytes."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from cmvcds.adapters.cli.common import (
    emit,
    exits_on_error,
    knowledge_pack,
    read_case_file,
    read_settings,
    today,
)

__all__ = ["AssessFormat", "AssessLanguage", "assess_case"]


class AssessFormat(StrEnum):
    JSON = "json"
    TEXT = "text"
    HTML = "html"
    FHIR = "fhir"


class AssessLanguage(StrEnum):
    """The languages of the output (those of the web pages)."""

    EN = "en"
    IT = "it"


def assess_case(
    case: Path,
    format: AssessFormat,
    settings: Path | None,
    language: AssessLanguage = AssessLanguage.EN,
) -> None:
    """Assess the case file ``case`` and print it in ``format`` and ``language``; errors exit as
    ``exits_on_error`` says.

    In Italian every format says the same document in Italian: the clinical texts (reasons,
    alerts, missing data, schedules) from the pack's ``clinical_texts_it`` (English where a text
    has none), the text and HTML reports' own words from the gettext catalogue; the FHIR Bundle
    states ``language``. Codes, ids, dates, doses and citations are the same in both."""
    with exits_on_error():
        raw = read_case_file(case)  # a hostile file is refused before the engine is loaded
        from cmvcds.assess import assess as run_assessment
        from cmvcds.domain.case import parse_case

        knowledge = knowledge_pack()
        parsed = parse_case(raw, knowledge, today=today())
        document = run_assessment(
            parsed, knowledge, settings=read_settings(settings, knowledge)
        ).to_dict()
        if language is not AssessLanguage.EN:
            from cmvcds.adapters.web.i18n import reset_language, set_language
            from cmvcds.adapters.web.texts import document_in

            document = document_in(document, language.value)
            token = set_language(language.value)
            try:
                _print(document, format, language)
            finally:
                reset_language(token)
        else:
            _print(document, format, language)


def _print(document: dict[str, Any], format: AssessFormat, language: AssessLanguage) -> None:
    """Print ``document`` in ``format`` (in the language being rendered)."""
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
        if language is not AssessLanguage.EN:
            bundle = {"resourceType": "Bundle", "language": language.value, **bundle}
        emit(json.dumps(bundle, indent=2, ensure_ascii=False))
    elif format is AssessFormat.HTML:
        from cmvcds.adapters.report.html import assessment_html

        emit(assessment_html(document))
    else:
        from cmvcds.adapters.report.text import assessment_text

        if language is AssessLanguage.EN:
            emit(assessment_text(document))
        else:
            from cmvcds.adapters.web.i18n import gettext

            emit(assessment_text(document, gettext))
