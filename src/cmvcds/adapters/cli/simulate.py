"""``cmvcds simulate``: CMV screening policies simulated through the AIFA 648/96 engine."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from cmvcds.adapters.cli.common import emit, exits_on_error, write_pdf
from cmvcds.errors import InputError


class Format(StrEnum):
    JSON = "json"
    TEXT = "text"
    HTML = "html"
    PDF = "pdf"  # the HTML report printed by Debian's headless chromium


class Language(StrEnum):
    EN = "en"
    IT = "it"


def simulate(
    strategies: Annotated[
        str, typer.Option("--strategies", help="Comma-separated: no-screening, first-trimester, repeated, hygiene.")
    ] = "no-screening,first-trimester,repeated,hygiene",
    n: Annotated[int, typer.Option("--n", min=1, help="Pregnancies simulated for the base case.")] = 100_000,
    psa_draws: Annotated[int, typer.Option("--psa-draws", min=0, help="Probabilistic sensitivity analysis draws.")] = 0,
    psa_n: Annotated[int, typer.Option("--psa-n", min=1, help="Pregnancies per PSA draw.")] = 10_000,
    tornado: Annotated[bool, typer.Option("--tornado/--no-tornado", help="One-way sensitivity (tornado) on every varied parameter.")] = False,
    tornado_n: Annotated[int, typer.Option("--tornado-n", min=1, help="Pregnancies per tornado run.")] = 10_000,
    wtp: Annotated[float, typer.Option("--wtp", min=0, help="Willingness to pay, EUR per QALY (tornado).")] = 40_000.0,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed: the same seed gives the same result.")] = 1,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes on this machine (or local Dask workers).")] = 1,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786), or 'local' for a local cluster.")
    ] = None,
    repeat_weeks: Annotated[str | None, typer.Option("--repeat-weeks", help="Weeks of the repeated serology, e.g. 16,22.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a parameter: ID=VALUE (repeatable).")
    ] = None,
    published: Annotated[
        str | None, typer.Option("--published", help="Run with a published model's base-case inputs (simulation_published id).")
    ] = None,
    population: Annotated[
        str | None,
        typer.Option("--population", help="Seroprevalence of a region or age band (simulation_seroprevalence id, e.g. apulia-under-25)."),
    ] = None,
    format: Annotated[
        Format, typer.Option("--format", help="Output format (pdf: the HTML report printed by chromium; bytes to stdout without -o).")
    ] = Format.TEXT,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    lang: Annotated[Language, typer.Option("--lang", help="Language of the text and HTML/PDF report (JSON is not translated).")] = Language.EN,
) -> None:
    """Simulate pregnancies under CMV screening policies (per 100,000: detections, treatments, outcomes, costs, ICERs).

    Also amniocenteses, QALYs and, when asked, PSA, CEAC and tornado.
    """
    from cmvcds.adapters.report.dossier import in_language
    from cmvcds.adapters.report.simulation_html import render_html, render_text
    from cmvcds.knowledge import load_knowledge
    from cmvcds.simulation import simulate as run
    from cmvcds.simulation.published import compare, model, published_inputs, simulated

    with exits_on_error(), in_language(lang.value):
        knowledge = load_knowledge()
        changes = dict(published_inputs(knowledge, published)) if published else {}
        changes.update(_settings(set_ or []))
        weeks = _weeks(repeat_weeks) or (model(knowledge, published).repeat_weeks if published else None)
        result = run(
            strategies=[s.strip() for s in strategies.split(",") if s.strip()],
            n=n, seed=seed, psa_draws=psa_draws, psa_n=psa_n, tornado=tornado, tornado_n=tornado_n,
            wtp=wtp, workers=workers, scheduler=scheduler, inputs=changes,
            repeat_weeks=weeks, knowledge=knowledge, progress=_progress, population=population,
        )  # fmt: skip
        comparison = None
        if published:  # the paper's count beside the simulator's (docs/simulation.md)
            paper = model(knowledge, published)
            comparison = {**compare(simulated(result, paper), paper), "per": paper.per, "strategy": paper.strategy}
        if format is Format.JSON:
            document = result.to_dict()
            if comparison is not None:
                document["published"] = comparison
            text = json.dumps(document, indent=2)
        elif format is Format.PDF:
            write_pdf(render_html(result, knowledge), output)
            return
        elif format is Format.HTML:
            text = render_html(result, knowledge)
        else:
            text = render_text(result) + (_comparison_text(comparison) if comparison else "")
        if output is None:
            emit(text)
        else:
            output.write_text(text, encoding="utf-8")


def _comparison_text(c: dict[str, Any]) -> str:
    """The paper's count beside the simulator's, in the language of the report."""
    from cmvcds.adapters.report.simulation_html import ROWS, number, percent
    from cmvcds.adapters.web.i18n import gettext

    if c["within_tolerance"]:
        line = gettext("Published model %(model)s: %(outcome)s under %(strategy)s, per %(per)s: reported %(reported)s, "
                       "simulated %(simulated)s (%(difference)s apart, within the %(tolerance)s tolerance)")
    else:
        line = gettext("Published model %(model)s: %(outcome)s under %(strategy)s, per %(per)s: reported %(reported)s, "
                       "simulated %(simulated)s (%(difference)s apart, NOT within the %(tolerance)s tolerance)")  # fmt: skip
    outcome = dict(ROWS).get(c["outcome"])
    return "\n" + line % {
        "model": c["model"], "outcome": gettext(outcome) if outcome else c["outcome"], "strategy": c["strategy"],
        "per": number(c["per"]), "reported": number(c["reported"]), "simulated": number(c["simulated"]),
        "difference": percent(c["relative_difference"]), "tolerance": number(c["tolerance"] * 100) + "%",
    } + ("" if c.get("verified", True) else gettext("; the reported count is not verified")) + "\n"  # fmt: skip


def _progress(done: int, total: int) -> None:
    """A line on stderr at each tenth of a long run (more than ten chunks of 10,000)."""
    if total > 10 and (done * 10 // total) != ((done - 1) * 10 // total):
        typer.echo(f"simulate: {done:,} of {total:,} chunks done ({done / total:.0%})", err=True)


def _settings(items: list[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"expected ID=NUMBER, got {item!r}", field="--set") from None
    return values


def _weeks(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(w) for w in text.split(","))
    except ValueError:
        raise InputError(f"expected weeks like 16,22, got {text!r}", field="--repeat-weeks") from None
