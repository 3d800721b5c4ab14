"""The console script's fast path: ``cmvcds assess`` and ``cmvcds ask`` without Typer.

Why: importing Typer (and its copy of click) and building a command costs ~50-60 ms of CPU, a
fifth of a cold ``cmvcds assess`` and of a later ``cmvcds ask`` (issue 20, items 3 and 4).
``parse`` recognises only the plain forms of these two commands: the command, its one argument
and each of its options at most once, as ``--option VALUE`` or ``--option=VALUE``, with a valid
choice. It returns the call they make, the same function the Typer command calls
(``assess_case``, ``answer``), so the output is the same bytes. Anything else - ``--help``, a
typo, a missing or second argument, an unknown or repeated option, an invalid choice, ``--``,
an empty or dash-led value - returns None and the whole Typer app answers as before, with its
own messages and exit codes. ``tests/test_cli_argv.py`` runs both paths on the same argv.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from cmvcds.adapters.cli.no_plugins import without_plugins

__all__ = ["parse", "run"]

#: The commands of the fast path → the options each takes (each with a value).
_OPTIONS: dict[str, frozenset[str]] = {
    "assess": frozenset({"--format", "--settings", "--lang"}),
    "ask": frozenset({"--audience", "--case", "--settings", "--format"}),
}


def _split(args: Sequence[str], options: frozenset[str]) -> tuple[str, dict[str, str]] | None:
    """The one argument and the options of ``args``, or None when they are not plain."""
    arguments: list[str] = []
    given: dict[str, str] = {}
    tokens = iter(args)
    for token in tokens:
        if not token.startswith("-"):
            arguments.append(token)
            continue
        name, equals, value = token.partition("=")
        if not equals:
            value = next(tokens, "")
        if name not in options or name in given or not value or value.startswith("-"):
            return None
        given[name] = value
    if len(arguments) != 1 or not arguments[0]:
        return None
    return arguments[0], given


def _path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


def parse(argv: Sequence[str]) -> Callable[[], None] | None:
    """The call ``cmvcds *argv`` makes when it is a plain ``assess`` or ``ask``, else None."""
    if not argv or argv[0] not in _OPTIONS:
        return None
    found = _split(argv[1:], _OPTIONS[argv[0]])
    if found is None:
        return None
    argument, given = found
    try:
        if argv[0] == "assess":
            from cmvcds.adapters.cli.assess_case import AssessFormat, AssessLanguage, assess_case

            return partial(
                assess_case,
                Path(argument),
                AssessFormat(given.get("--format", AssessFormat.TEXT)),
                _path(given.get("--settings")),
                AssessLanguage(given.get("--lang", AssessLanguage.EN)),
            )
        from cmvcds.adapters.cli.answer import AskFormat, Audience, answer

        return partial(
            answer,
            argument,
            Audience(given.get("--audience", Audience.AUTO)),
            _path(given.get("--case")),
            _path(given.get("--settings")),
            AskFormat(given.get("--format", AskFormat.TEXT)),
        )
    except ValueError:  # not one of the choices: Typer names them
        return None


def run(argv: Sequence[str]) -> bool:
    """Run ``cmvcds *argv`` when ``parse`` recognises it (errors end in ``SystemExit`` with the
    command's exit code; an interrupt ends with 130, as Typer ends it); False when it does not.

    Both commands run without pydantic plugins, whichever path answers (``no_plugins``: looking
    for them costs ~20-40 ms of each cold command, and cmvcds uses none). The cycle collector is
    off while the command runs (back on after, for a caller in the same process): start-up builds
    hundreds of classes and thousands of objects, which trigger full collections that find
    nothing (~40 ms of a cold ``assess`` or ``ask``); reference counting still frees the rest, the
    input is bounded (``DEFAULT_LIMITS``) and the process ends with the command."""
    if not argv or argv[0] not in _OPTIONS:
        return False
    without_plugins()
    collecting = gc.isenabled()
    gc.disable()
    try:
        call = parse(argv)
        if call is None:
            return False
        call()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    finally:
        if collecting:
            gc.enable()
    return True
