"""``cmvcds ask "QUESTION" [--audience clinician|patient|auto] [--case CASE] [--format text|json]``:
the Typer command; the answer itself is ``cli/answer.py``'s (shared with the console script's fast
path)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmvcds.adapters.cli.answer import AskFormat, Audience, answer

__all__ = ["ask"]


def ask(
    question: Annotated[
        str, typer.Argument(help="The question, in English or Italian.", show_default=False)
    ],
    audience: Annotated[
        Audience,
        typer.Option(
            "--audience",
            help="Wording for a clinician or a patient; auto: as the question's wording tells.",
        ),
    ] = Audience.AUTO,
    case: Annotated[
        Path | None, typer.Option(
            "--case", help="Personalise with this case file (cmvcds-case/1).", readable=False
        )
    ] = None,
    settings: Annotated[
        Path | None,
        typer.Option(
            "--settings", help="Site settings file (default: $CMVCDS_SETTINGS).", readable=False
        ),
    ] = None,
    format: Annotated[AskFormat, typer.Option("--format", help="Output format.")] = AskFormat.TEXT,
) -> None:
    """Answer a clinical question from cited, reviewed knowledge (or say it is not covered)."""
    answer(question, audience, case, settings, format)
