"""The ``cmvcds`` command: one Typer app, one module per command, errors mapped to exit codes.

Exit codes: 0 done, 1 internal error, 2 bad input. An error is one line on stderr, never a
traceback.
"""

from __future__ import annotations

import typer

from cmvcds.adapters.cli import case_commands, knowledge_command

app = typer.Typer(
    name="cmvcds",
    help="Clinical decision support for CMV antiviral therapy. Every answer cited.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("assess")(case_commands.assess)
app.command("validate")(case_commands.validate)
app.command("knowledge")(knowledge_command.knowledge)
app.command("dossier")(__import__("cmvcds.adapters.cli.dossier", fromlist=["dossier"]).dossier)
app.command("ask")(__import__("cmvcds.adapters.cli.ask", fromlist=["ask"]).ask)
app.command("dose")(__import__("cmvcds.adapters.cli.dose", fromlist=["dose"]).dose)
app.command("explain")(__import__("cmvcds.adapters.cli.explain", fromlist=["explain"]).explain)
app.command("resistance")(__import__("cmvcds.adapters.cli.resistance", fromlist=["resistance"]).resistance)
app.add_typer(__import__("cmvcds.adapters.cli.registry", fromlist=["app"]).app, name="registry")
app.add_typer(__import__("cmvcds.adapters.cli.stats", fromlist=["app"]).app, name="stats")
app.command("serve")(__import__("cmvcds.adapters.cli.serve", fromlist=["serve"]).serve)
