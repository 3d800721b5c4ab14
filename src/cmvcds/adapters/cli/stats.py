"""``cmvcds stats two-by-two A B C D``: OR with Woolf 95% CI, Pearson χ² and Fisher exact p."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from cmvcds.adapters.cli.common import emit, exits_on_error

app = typer.Typer(help="Statistics for a researcher's own tables.", no_args_is_help=True)


class Format(StrEnum):
    JSON = "json"
    TEXT = "text"


@app.command("two-by-two")
def two_by_two_command(
    a: Annotated[int, typer.Argument(help="Exposed with the event.", min=0, show_default=False)],
    b: Annotated[int, typer.Argument(help="Exposed without the event.", min=0, show_default=False)],
    c: Annotated[int, typer.Argument(help="Unexposed with the event.", min=0, show_default=False)],
    d: Annotated[
        int, typer.Argument(help="Unexposed without the event.", min=0, show_default=False)
    ],
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TEXT,
) -> None:
    """Odds ratio (Woolf 95% CI), Pearson χ² (uncorrected) and Fisher exact p of a 2×2 table."""
    from cmvcds.registry.statistics import two_by_two  # scipy loads only when asked

    with exits_on_error():
        result = two_by_two(a, b, c, d).as_dict()
        if format is Format.JSON:
            emit(json.dumps(result, indent=2))
            return
        ci = result["ci95"]
        emit(
            "\n".join([
                f"exposed:   {a} events / {a + b}  risk {result['risk_exposed']:.3f}",
                f"unexposed: {c} events / {c + d}  risk {result['risk_unexposed']:.3f}",
                f"odds ratio {result['odds_ratio']:.2f} (95% CI {ci[0]:.2f}–{ci[1]:.2f}, {result['ci_method']})",
                f"chi-square p {_p(result['chi2_p'])} ({result['chi2_method']})",
                f"Fisher exact p {_p(result['fisher_p'])} ({result['fisher_method']})",
            ])
        )  # fmt: skip


def _p(value: float | None) -> str:
    if value is None:
        return "not defined (a margin is zero)"
    return "< 0.001" if value < 0.001 else f"= {value:.3f}"
