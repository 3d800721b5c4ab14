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

import atexit
import gc
import os
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from cmvcds.adapters.cli.no_plugins import without_plugins
from cmvcds.domain import code_cache

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


def run(argv: Sequence[str], end_at_once: bool = False) -> bool:
    """Run ``cmvcds *argv`` when ``parse`` recognises it (errors end in ``SystemExit`` with the
    command's exit code; an interrupt ends with 130, as Typer ends it); False when it does not.

    Both commands run without pydantic plugins, whichever path answers (``no_plugins``: looking
    for them costs ~20-40 ms of each cold command, and cmvcds uses none). The cycle collector is
    off while the command runs (back on after, for a caller in the same process): start-up builds
    hundreds of classes and thousands of objects, which trigger full collections that find
    nothing (~40 ms of a cold ``assess`` or ``ask``); reference counting still frees the rest, the
    input is bounded (``DEFAULT_LIMITS``) and the process ends with the command.

    The source that ``dataclasses``, ``typing`` and the result converters generate is compiled
    once per machine, not once per process (``code_cache``: a fifth of a cold ``assess``):
    its cache file is read before anything else is imported, and written after the command when
    it lacked something. With ``end_at_once`` (the console script) a command that succeeded
    ends the process there (``_end_at_once``)."""
    if not argv or argv[0] not in _OPTIONS:
        return False
    without_plugins()
    cache = code_cache.cache_file(argv[0])
    code_cache.load(cache)
    code_cache.cache_stdlib()
    collecting = gc.isenabled()
    gc.disable()
    try:
        call = parse(argv)
        if call is None:
            return False
        call()
        code_cache.save(cache)
        if end_at_once:
            _end_at_once()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    finally:
        if collecting:
            gc.enable()
        code_cache.save(cache)
        code_cache.release_stdlib()
    return True


def _end_at_once() -> None:
    """Exit with 0 once stdout and stderr are written, without tearing the interpreter down.

    Why: tearing down a process that built ~100 classes and imported ~180 modules (freeing every
    module's objects, a last full collection) is 7 % of a cold ``cmvcds assess``'s instructions,
    for nothing a one-shot command needs (issue 20, item 3, ADR 0033). Only after the fast path's
    ``assess`` or ``ask`` (no server, no workers, no atexit handler of cmvcds's; the code cache is
    written by then), while the cycle collector is still off (turned on, its first collection
    would walk every object the command made), and only with no other thread running and no exit
    handler registered (a profiler's, coverage's: they need the interpreter's ending); when stdout
    cannot be written (the reader left) the interpreter ends as before and says so as before."""
    threading = sys.modules.get("threading")  # not imported: no other thread was started by it
    if threading is not None and threading.active_count() != 1:
        return
    # an exit handler someone registered (a profiler's, coverage's) or an interactive session
    # (python -i) needs the interpreter's own ending (review23d)
    if atexit._ncallbacks() or sys.flags.interactive:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # the interpreter's own exit reports it, as before
        return
    os._exit(0)
