"""``cmvcds explain CONTEXT``: the cited treatment overview of a population, from the knowledge pack."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer

from cmvcds.adapters.cli.common import emit, exits_on_error, knowledge_pack


class ExplainFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class ExplainLanguage(StrEnum):
    """The languages of the overview (those of the web pages and ``cmvcds assess --lang``)."""

    EN = "en"
    IT = "it"


def explain(
    context: Annotated[
        str, typer.Argument(help="transplant, hiv, immunocompetent or immunocompromised.")
    ],
    format: Annotated[
        ExplainFormat, typer.Option("--format", help="Output format.")
    ] = ExplainFormat.TEXT,
    lang: Annotated[
        ExplainLanguage,
        typer.Option(
            "--lang",
            help="Language of the overview (it: its sentences from the pack's Italian texts).",
        ),
    ] = ExplainLanguage.EN,
) -> None:
    """The treatment overview for a population: every sentence with its sources and the knowledge version.

    In Italian (``--lang it``) the title, section titles and sentences come from the pack's
    ``clinical_texts_it`` (English where a sentence has none), the text's own words from the
    gettext catalogue; citations, numbers and the knowledge version are the same (debt23)."""
    from cmvcds.engine.explain import overview

    with exits_on_error():
        document = overview(context, knowledge_pack()).to_dict()
        if lang is ExplainLanguage.EN:
            _print(document, format, lambda text: text)
            return
        from cmvcds.adapters.web.i18n import gettext, reset_language, set_language
        from cmvcds.adapters.web.texts import overview_in

        document = overview_in(document, lang.value)
        token = set_language(lang.value)
        try:
            _print(document, format, gettext)
        finally:
            reset_language(token)


def _print(document: dict[str, Any], format: ExplainFormat, words: Callable[[str], str]) -> None:
    if format is ExplainFormat.JSON:
        emit(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        emit(overview_text(document, words))


def overview_text(document: dict[str, Any], words: Callable[[str], str] = lambda text: text) -> str:
    """The overview as text: numbered sections, each sentence followed by its source ids;
    ``words`` says the text's own words in the output's language (gettext)."""
    knowledge = document["knowledge"]
    lines = [
        document["title"],
        words("cmvcds knowledge %(version)s (sha256 %(sha)s)")
        % {"version": knowledge["version"], "sha": knowledge["sha256"][:12]},
        "",
    ]
    for section in document["sections"]:
        lines.append(section["title"])
        for statement in section["statements"]:
            flag = "" if statement["verified"] else " " + words("(not yet verified)")
            lines.append(f"  - {statement['text']} [{', '.join(statement['citations'])}]{flag}")
        lines.append("")
    if document["not_available"]:
        lines.append(
            words("Not in the dosing tables of this version:")
            + " "
            + ", ".join(document["not_available"])
        )
        lines.append("")
    lines.append(words("References"))
    for reference in document["references"]:
        lines.append(
            f"  [{reference['id']}] {reference['citation']}"
            + ("" if reference["verified"] else " " + words("(UNVERIFIED)"))
        )
    return "\n".join(lines)
