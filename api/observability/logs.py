"""Logging for the server and the command line: ``text`` for people, ``json`` for log shippers.

In JSON every line the process writes is one object (gunicorn's own lines included, since its
loggers get the same handler) with ``ts`` (ISO 8601, UTC), ``level``, ``event`` and the fields of
that event; a line that names no event is ``"event": "log"``. python-json-logger does the
escaping, so a client's path can never break a line apart; in text, ``TextFormatter`` writes
control characters escaped, to the same end.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# C0 and C1 control characters, DEL included: what could end a line or steer a terminal.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x2028: "\\u2028", 0x2029: "\\u2029"})


class TextFormatter(logging.Formatter):
    """The text format, one record to one line: a control character in a message (a client's path
    holding ``%0a`` or a terminal escape sequence) is written as ``\\n`` or ``\\x1b``, so nothing a
    client sends can forge a line. A traceback still follows on lines of its own."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        return line if line.isprintable() else line.translate(_ESCAPES)


class EventFilter(logging.Filter):
    """Gives every record an ``event`` (``log`` unless the code that logged it named one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "event"):
            record.event = "log"
        return True


def logging_config(fmt: str = "text", level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict: one stderr handler for our loggers and gunicorn's."""
    formatter: dict[str, Any] = {"()": TextFormatter, "format": TEXT_FORMAT}
    if fmt == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(event)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "ts",
        }
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "main",
        "filters": ["event"],
    }
    quiet = {"handlers": ["console"], "level": level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"event": {"()": EventFilter}},
        "formatters": {"main": formatter},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"gunicorn.error": quiet, "gunicorn.access": {**quiet, "level": "CRITICAL"}},
    }


def configure_logging(fmt: str = "text", level: str = "INFO") -> dict[str, Any]:
    """Apply ``logging_config`` to this process (warnings included) and return it for gunicorn."""
    config = logging_config(fmt, level)
    # Neither format shows a thread or process, so records need not look them up: under gevent,
    # the current thread is found through the greenlet, for every request line.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.config.dictConfig(config)
    logging.captureWarnings(True)
    return config
