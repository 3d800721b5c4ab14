"""The ``cmvcds`` command: one Typer app, one module per command, errors mapped to exit codes.

Exit codes: 0 done, 1 internal error, 2 bad input. An error is one line on stderr, never a
traceback. Command modules import their heavy dependencies (the web stack, the database, the
embedding model) inside the command, so that ``cmvcds --help`` answers at once.
"""

from __future__ import annotations

import typer

from cmvcds.adapters.cli import (
    ask,
    bulk,
    case_commands,
    dose,
    dossier,
    explain,
    knowledge_command,
    registry,
    resistance,
    serve,
    simulate,
    stats,
)

app = typer.Typer(
    name="cmvcds",
    help="Clinical decision support for CMV antiviral therapy. Every answer cited.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("assess")(case_commands.assess)
app.command("validate")(case_commands.validate)
app.command("assess-bulk")(bulk.assess_bulk)
app.command("dossier")(dossier.dossier)
app.command("dose")(dose.dose)
app.command("resistance")(resistance.resistance)
app.command("explain")(explain.explain)
app.command("ask")(ask.ask)
app.command("knowledge")(knowledge_command.knowledge)
app.command("serve")(serve.serve)
app.command("simulate")(simulate.simulate)
app.add_typer(stats.app, name="stats")
app.add_typer(registry.app, name="registry")
