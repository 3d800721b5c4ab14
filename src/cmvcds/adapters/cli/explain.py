"""``cmvcds explain CONTEXT``: the cited treatment overview of a population, from the knowledge pack."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from cmvcds.adapters.cli.common import emit, exits_on_error, knowledge_pack


class ExplainFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def explain(
    context: Annotated[
        str, typer.Argument(help="transplant, hiv, immunocompetent or immunocompromised.")
    ],
    format: Annotated[
        ExplainFormat, typer.Option("--format", help="Output format.")
    ] = ExplainFormat.TEXT,
) -> None:
    """The treatment overview for a population: every sentence with its sources and the knowledge version."""
    from cmvcds.engine.explain import overview

    with exits_on_error():
        document = overview(context, knowledge_pack()).to_dict()
        if format is ExplainFormat.JSON:
            emit(json.dumps(document, indent=2, ensure_ascii=False))
        else:
            emit(overview_text(document))


def overview_text(document: dict[str, Any]) -> str:
    """The overview as text: numbered sections, each sentence followed by its source ids."""
    knowledge = document["knowledge"]
    lines = [
        document["title"],
        f"cmvcds knowledge {knowledge['version']} (sha256 {knowledge['sha256'][:12]})",
        "",
    ]
    for section in document["sections"]:
        lines.append(section["title"])
        for statement in section["statements"]:
            flag = "" if statement["verified"] else " (not yet verified)"
            lines.append(f"  - {statement['text']} [{', '.join(statement['citations'])}]{flag}")
        lines.append("")
    if document["not_available"]:
        lines.append(
            "Not in the dosing tables of this version: " + ", ".join(document["not_available"])
        )
        lines.append("")
    lines.append("References")
    for reference in document["references"]:
        lines.append(
            f"  [{reference['id']}] {reference['citation']}"
            + ("" if reference["verified"] else " (UNVERIFIED)")
        )
    return "\n".join(lines)
