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
