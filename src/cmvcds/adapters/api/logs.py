"""Structured (JSON lines) logging for ``cmvcds serve``, one object per line on stderr.

``LOGGING`` is a ``logging.config.dictConfig`` mapping handed to uvicorn's public ``log_config``
(so every worker process applies it); it sends cmvcds's and uvicorn's own loggers through
``JsonFormatter`` to ``BlockStreamHandler``: lines are written to stderr in blocks (a full block,
a warning or worse at once, else at least every ``FLUSH_S``, and at exit) instead of one write
per line; with a line per request, the writes cost the access log most of its CPU (issue 20,
item 5). A line holds the time (UTC, ISO 8601), level, logger, message, the request id
of the request being served (``request_log.REQUEST_ID``, read when the line is written) and, for the access line, only the
fields of ``ACCESS_FIELDS`` — never a body, query string, cookie or identity.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from cmvcds.adapters.api.request_log import REQUEST_ID

__all__ = ["ACCESS_FIELDS", "FLUSH_S", "LOGGING", "BlockStreamHandler", "JsonFormatter"]

#: The only ``extra`` fields a log line may carry (the access line's).
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
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
