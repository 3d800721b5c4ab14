"""Structured (JSON lines) logging for ``cmvcds serve``, one object per line on stderr.

``LOGGING`` is a ``logging.config.dictConfig`` mapping handed to uvicorn's public ``log_config``
(so every worker process applies it); it sends cmvcds's and uvicorn's own loggers through
``JsonFormatter``. A line holds the time (UTC, ISO 8601), level, logger, message, the request id
of the request being served (``request_log.REQUEST_ID``, read when the line is written) and, for the access line, only the
fields of ``ACCESS_FIELDS`` — never a body, query string, cookie or identity.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from cmvcds.adapters.api.request_log import REQUEST_ID

__all__ = ["ACCESS_FIELDS", "LOGGING", "JsonFormatter"]

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
        return json.dumps(line, ensure_ascii=False, default=str)


LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonFormatter}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
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
