"""The ``cmvcds`` command: one Typer app, one module per command, errors mapped to exit codes.

Exit codes: 0 done, 1 internal error, 2 bad input. An error is one line on stderr, never a
traceback. Command modules import their heavy dependencies (the web stack, the database, the
embedding model) inside the command, so that ``cmvcds --help`` answers at once.

``run`` (the console script) builds only the command named on the command line: building every
command's options costs ~40 ms of a cold ``cmvcds assess`` (issue 20, item 3). Help, an unknown
command or no command get the whole app; ``app`` (what the tests drive) is the whole app too.
The plain forms of ``assess`` and ``ask`` do not even import Typer (``argv``: the same function
runs, Typer answers everything else).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

__all__ = ["COMMANDS", "build", "console", "run"]

#: Command name → ``module:attribute`` in this package: a function for a command, a Typer app
#: for a group of commands (``stats``, ``registry``). Their order is the order of ``--help``.
COMMANDS: dict[str, str] = {
    "assess": "case_commands:assess",
    "validate": "case_commands:validate",
    "assess-bulk": "bulk:assess_bulk",
    "dossier": "dossier:dossier",
    "dose": "dose:dose",
    "resistance": "resistance:resistance",
    "explain": "explain:explain",
    "ask": "ask:ask",
    "knowledge": "knowledge_command:knowledge",
    "serve": "serve:serve",
    "simulate": "simulate:simulate",
    "stats": "stats:app",
    "registry": "registry:app",
}


def _target(name: str) -> Any:
    module, attribute = COMMANDS[name].split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), attribute)


def _root() -> None:
    """Clinical decision support for CMV antiviral therapy. Every answer cited."""


def build(only: str | None = None) -> typer.Typer:
    """The app with every command, or with the command ``only`` alone (the app stays a group of
    commands either way, so ``cmvcds assess CASE`` reads the same)."""
    import typer

    app = typer.Typer(
        name="cmvcds",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    for name in COMMANDS if only is None else [only]:
        target = _target(name)
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)
    return app


def run(end_at_once: bool = False) -> None:
    """``cmvcds`` with the arguments of ``sys.argv``; with ``end_at_once`` (the console script),
    a plain ``assess`` or ``ask`` that succeeded ends the process at once (``argv.run``)."""
    from cmvcds.adapters.cli import argv

    if argv.run(sys.argv[1:], end_at_once=end_at_once):
        return
    name = sys.argv[1] if len(sys.argv) > 1 else None
    build(name if name in COMMANDS else None)()


def console() -> None:
    """The ``cmvcds`` console script (``[project.scripts]``) and ``python -m cmvcds``."""
    run(end_at_once=True)


def __getattr__(name: str) -> Any:
    """``app``: the whole app, built on first use (importing this module builds nothing)."""
    if name == "app":
        app = globals()["app"] = build()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
