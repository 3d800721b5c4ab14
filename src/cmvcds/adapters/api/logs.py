"""Structured (JSON lines) logging for ``cmvcds serve``, one object per line on stderr.

``LOGGING`` is a ``logging.config.dictConfig`` mapping handed to uvicorn's public ``log_config``
(so every worker process applies it); it sends cmvcds's and uvicorn's own loggers through
``JsonFormatter`` to ``BlockStreamHandler``: lines are written to stderr in blocks (a full block,
a warning or worse at once, else at least every ``FLUSH_S``, and at exit) instead of one write
per line; with a line per request, the writes cost the access log most of its CPU (issue 20,
item 5). A line holds the time (UTC, ISO 8601), level, logger, message, the request id
of the request being served (``request_log.REQUEST_ID``, read when the line is written) and, for the access line, only the
fields of ``ACCESS_FIELDS`` — never a body, query string, cookie or identity.

A database error's text is never written (``safe_exception_text``): SQLAlchemy's message holds
the statement and, unless the engine hides them, its bound parameters, and the driver's own
message can quote a value (PostgreSQL's "Key (…)=(…) already exists", "invalid input syntax …:
"…""), so a failed write would put a hospital record number or a CRF value in the log (probe12
finding 1). Such an exception — in a traceback, its chain, or a message argument — is written
as its class, its SQLSTATE and "message withheld"; the frames (file, line, code) are kept.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from cmvcds.adapters.api.request_log import REQUEST_ID

__all__ = [
    "ACCESS_FIELDS",
    "FLUSH_S",
    "LOGGING",
    "BlockStreamHandler",
    "JsonFormatter",
    "is_database_error",
    "safe_error_line",
    "safe_exception_text",
]

#: The only ``extra`` fields a log line may carry (the access line's).
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")


#: Top-level packages whose exceptions may quote a statement's data (drivers and SQLAlchemy).
_DATABASE_PACKAGES = frozenset({"sqlalchemy", "psycopg", "psycopg2", "psycopg_pool", "sqlite3",
                                "_sqlite3", "alembic"})  # fmt: skip


def is_database_error(error: BaseException) -> bool:
    """Whether ``error`` comes from the database layer (its text may quote stored data)."""
    return any(
        kind.__module__.split(".")[0] in _DATABASE_PACKAGES for kind in type(error).__mro__[:-2]
    )


def safe_error_line(error: BaseException) -> str:
    """``error`` as the last line of a traceback, a database error's message withheld."""
    kind = type(error)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if not is_database_error(error):
        return "".join(traceback.format_exception_only(error)).rstrip("\n")
    orig = getattr(error, "orig", None) or error
    state = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    driver = f" from {type(orig).__module__}.{type(orig).__qualname__}" if orig is not error else ""
    return f"{name}{driver} (SQLSTATE {state or '?'}): message withheld (it may quote data)"


def safe_exception_text(error: BaseException) -> str:
    """A traceback of ``error`` and its chain, each database error's message withheld."""
    parts: list[str] = []
    seen: set[int] = set()

    def walk(current: BaseException) -> None:
        seen.add(id(current))
        cause, context = current.__cause__, current.__context__
        if cause is not None and id(cause) not in seen:
            walk(cause)
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
            )
        elif context is not None and not current.__suppress_context__ and id(context) not in seen:
            walk(context)
            parts.append(
                "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        if current.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(current.__traceback__))
        parts.append(safe_error_line(current) + "\n")

    walk(error)
    return "".join(parts).rstrip("\n")


def _message(record: logging.LogRecord) -> str:
    """The record's message, a database error among its arguments written safely."""
    args = record.args
    if isinstance(args, tuple) and any(isinstance(a, BaseException) for a in args):
        safe = tuple(safe_error_line(a) if isinstance(a, BaseException) and is_database_error(a)
                     else a for a in args)  # fmt: skip
        return str(record.msg) % safe
    if isinstance(record.msg, BaseException) and is_database_error(record.msg):
        return safe_error_line(record.msg)
    return record.getMessage()


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object."""

    def formatException(self, ei: Any) -> str:
        """The traceback with no database error's message (see the module's docstring)."""
        error = ei[1]
        if error is None:
            return super().formatException(ei)
        return safe_exception_text(error)

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
        }
        request_id = record.__dict__.get("request_id") or REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        for name in ACCESS_FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        try:  # orjson: ~4x faster than json.dumps; a value it cannot write goes through json
            return orjson.dumps(line, default=str).decode()
        except (orjson.JSONEncodeError, TypeError):
            return json.dumps(line, ensure_ascii=False, default=str)


#: The longest a logged line waits in memory before it is written.
FLUSH_S = 1.0
#: Pending characters that are written at once.
_BLOCK = 64 * 1024


class BlockStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A ``StreamHandler`` that writes its lines in blocks: when ``_BLOCK`` characters are
    pending, at once for a warning or worse, else within ``FLUSH_S`` (a daemon thread, started
    with the first line), and on ``flush``/``close`` (``logging.shutdown`` at exit)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._size = 0
        self._timer: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._pending.append(line)
        self._size += len(line)
        if record.levelno >= logging.WARNING or self._size >= _BLOCK:
            self.flush()
        elif self._timer is None:
            self._timer = threading.Thread(target=self._every, name="log-flush", daemon=True)
            self._timer.start()

    def flush(self) -> None:
        self.acquire()
        try:
            if self._pending:
                lines, self._pending, self._size = self._pending, [], 0
                self.stream.write("\n".join(lines) + self.terminator)
            super().flush()
        except Exception:
            self.handleError(logging.makeLogRecord({"msg": "log lines not written"}))
        finally:
            self.release()

    def _every(self) -> None:
        while True:
            time.sleep(FLUSH_S)
            self.flush()


LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonFormatter}},
    "handlers": {
        "stderr": {
            "class": "cmvcds.adapters.api.logs.BlockStreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "cmvcds": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
