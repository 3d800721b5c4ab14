"""``cmvcds explain CONTEXT``: the cited treatment overview of a population, from the knowledge pack."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer

from cmvcds.adapters.cli.common import emit, exits_on_error, knowledge_pack
from cmvcds.adapters.web.i18n import N_


class ExplainFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class ExplainLanguage(StrEnum):
    """The languages of the overview (those of the web pages and ``cmvcds assess --lang``)."""

    EN = "en"
    IT = "it"


#: The overviews the pack words in Italian (debt23); the others are given in English only, with
#: a notice in Italian (fixr23a: never English and Italian mixed sentence by sentence).
TRANSLATED = frozenset({"congenital", "pregnancy"})
#: The notice (gettext; Italian in the .po).
ENGLISH_ONLY = N_(
    "This overview is available in English only; the Italian overviews are: %(which)s."
)


def explain(
    context: Annotated[
        str,
        typer.Argument(
            help="transplant, hiv, immunocompetent, immunocompromised, congenital or pregnancy."
        ),
    ],
    format: Annotated[
        ExplainFormat, typer.Option("--format", help="Output format.")
    ] = ExplainFormat.TEXT,
    lang: Annotated[
        ExplainLanguage,
        typer.Option(
            "--lang",
            help="Language of the overview (it: congenital and pregnancy in Italian; the "
            "others in English, with a notice).",
        ),
    ] = ExplainLanguage.EN,
) -> None:
    """The treatment overview for a population: every sentence with its sources and the
    knowledge version.

    In Italian (--lang it) the congenital and pregnancy overviews are given in Italian, with the
    same citations, numbers and knowledge version; the other overviews are in English only, and
    a notice in Italian says so."""
    from cmvcds.engine.explain import overview

    with exits_on_error():
        document = overview(context, knowledge_pack()).to_dict()
        if lang is ExplainLanguage.EN:
            _print(document, format, lambda text: text)
            return
        from cmvcds.adapters.web.i18n import gettext, reset_language, set_language
        from cmvcds.adapters.web.texts import overview_in

        token = set_language(lang.value)
        try:
            if context not in TRANSLATED:
                notice = gettext(ENGLISH_ONLY) % {"which": ", ".join(sorted(TRANSLATED))}
                if format is ExplainFormat.TEXT:
                    emit(notice + "\n")  # the text says it first
                else:
                    typer.echo(notice, err=True)  # JSON stays JSON
                _print(document, format, lambda text: text)
                return
            _print(overview_in(document, lang.value), format, gettext)
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
