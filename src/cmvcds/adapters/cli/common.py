"""What every command shares: reading case files, the knowledge and settings, error exits.

Typer-free, so that the console script's fast path (``argv``) runs ``assess`` and ``ask`` without
importing Typer: an error is written to stderr here and ends the process with ``SystemExit``,
which Typer and its test runner pass on with the same exit code. The document reader (and YAML
with it) is imported by the functions that read a document: ``cmvcds ask`` without ``--case``
reads none.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmvcds.errors import CmvcdsError, InputError
from cmvcds.knowledge import Knowledge, load_knowledge

if TYPE_CHECKING:
    from cmvcds.domain.case import Case
    from cmvcds.domain.settings import SiteSettings


__all__ = [
    "exits_on_error",
    "load_case",
    "read_bounded",
    "read_case_file",
    "read_settings",
    "today",
    "write_pdf",
]


def today() -> date:
    """The real date; the only place the CLI reads the clock."""
    return date.today()


def read_bounded(path: Path, limit: int, what: str = "file", field: str | None = None) -> bytes:
    """The bytes of ``path``, refused (never read whole) when longer than ``limit``."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        where = f"{what} {path}" if field is None else str(path)
        raise InputError(f"cannot read {where}: {error.strerror}", field=field) from None
    if len(data) > limit:
        raise InputError(f"{path}: larger than the {limit:,} bytes accepted for a {what}")
    return data


def read_case_file(path: Path) -> Any:
    """The raw mapping of a YAML or JSON case file, read by the one bounded reader of untrusted
    documents (``cmvcds.domain.documents``): aliases, duplicate keys, deep nesting refused."""
    from cmvcds.domain.documents import DEFAULT_LIMITS, parse_document

    data = read_bounded(path, DEFAULT_LIMITS.max_bytes, "case file", field="CASE")
    return parse_document(data, str(path), "json" if path.suffix.lower() == ".json" else "yaml")


def load_case(path: Path, knowledge: Knowledge) -> Case:
    from cmvcds.domain.case import parse_case

    return parse_case(read_case_file(path), knowledge, today=today())


def read_settings(path: Path | None, knowledge: Knowledge) -> SiteSettings:
    """The site settings from ``path``, else ``$CMVCDS_SETTINGS``, else none chosen."""
    from cmvcds.domain.documents import DEFAULT_LIMITS, parse_document
    from cmvcds.domain.settings import SiteSettings, parse_settings

    chosen = path or (
        Path(os.environ["CMVCDS_SETTINGS"]) if os.environ.get("CMVCDS_SETTINGS") else None
    )
    if chosen is None:
        return SiteSettings()
    data = read_bounded(chosen, DEFAULT_LIMITS.max_bytes, "settings file")
    raw = parse_document(data, str(chosen), "yaml")
    return parse_settings(raw, knowledge, origin=str(chosen))


def knowledge_pack() -> Knowledge:
    """The shipped pack, or the one named by ``$CMVCDS_KNOWLEDGE``."""
    return load_knowledge(os.environ.get("CMVCDS_KNOWLEDGE") or None)


@contextmanager
def exits_on_error() -> Iterator[None]:
    """Turn a cmvcds error into one line per problem on stderr and its exit code; no traceback."""
    try:
        yield
    except CmvcdsError as error:
        for line in getattr(error, "problems", None) or [str(error)]:
            _stderr(f"error: {line}")
        raise SystemExit(error.exit_code) from None
    except BrokenPipeError:  # the reader left (``| head``): not a bug, nothing more to say
        _quiet_stdout()
        raise SystemExit(1) from None
    except Exception as error:
        if _is_typer_exit(error):  # a command's own exit code (e.g. ``validate``'s 2)
            raise
        from cmvcds.adapters.api.logs import is_database_error, safe_error_line

        # a bug: one line, no traceback; a database error's text may quote data: withheld
        said = (
            safe_error_line(error)
            if is_database_error(error)
            else f"{type(error).__name__}: {error}"
        )
        _stderr(f"internal error: {said}")
        raise SystemExit(1) from None


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of a closed pipe stays silent
    (the Python documentation's advice for SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _is_typer_exit(error: Exception) -> bool:
    """Whether ``error`` is ``typer.Exit``: only a command run by Typer can raise it, so Typer is
    imported whenever it can be one (checked without importing it on the fast path)."""
    typer = sys.modules.get("typer")
    return typer is not None and isinstance(error, typer.Exit)


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def write_pdf(html: str, output: Path | None = None) -> None:
    """An HTML report printed to PDF by Debian's headless chromium (the web pages' printer),
    written to ``output`` or as bytes to stdout; no chromium is an input error naming it."""
    from cmvcds.adapters.api.service import NotAvailable
    from cmvcds.adapters.web.pages import html_to_pdf

    try:
        pdf = html_to_pdf(html)
    except NotAvailable as error:
        raise InputError(f"--format pdf: {error}") from None
    if output is not None:
        output.write_bytes(pdf)
        return
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()
