"""``cmvcds dossier CASE``: the Law 648/96 one-page HTML dossier of a pregnancy assessment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmvcds.adapters.cli.case_commands import CaseArg, SettingsOpt
from cmvcds.adapters.cli.common import (
    emit,
    exits_on_error,
    knowledge_pack,
    read_case_file,
    read_settings,
    today,
)
from cmvcds.errors import InputError


def dossier(
    case: CaseArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the HTML here (default: stdout).")
    ] = None,
    settings: SettingsOpt = None,
) -> None:
    """The printable 648/96 dossier (HTML) of a pregnancy case: eligibility, dates, dose, consent, sources."""
    from cmvcds.adapters.report.dossier import dossier_html
    from cmvcds.assess import assess as run_assessment
    from cmvcds.domain.case import parse_case

    with exits_on_error():
        raw = read_case_file(case)  # a hostile file is refused before the knowledge is loaded
        knowledge = knowledge_pack()
        parsed = parse_case(raw, knowledge, today=today())
        if not parsed.carries_pregnancy:
            raise InputError(
                "the 648/96 dossier is for pregnancy cases (this "
                f"{parsed.context.value} case carries no pregnancy)",
                field="context",
            )
        document = run_assessment(
            parsed, knowledge, settings=read_settings(settings, knowledge)
        ).to_dict()
        html = dossier_html(document, parsed, knowledge)
        if output is None:
            emit(html)
        else:
            output.write_text(html, encoding="utf-8")
            emit(f"wrote {output}")
