"""How log lines look: text (the default) or, with ``TOWNHALL_LOG_FORMAT=json``, one JSON
object per line.

A JSON line has ``time`` (UTC, ISO 8601, milliseconds), ``level``, ``logger``, ``message``,
``process`` (``TOWNHALL_PROCESS_NAME`` when set), ``request_id`` for lines logged while an
HTTP request is served (the proxy's ``X-Request-ID`` when it sends a sane one, else a new
id, echoed in the response), ``connection_id`` for lines logged while a WebSocket is served
(the id its ``hello`` carries), and ``exception`` (the traceback) when there is one. Access
lines add ``client``, ``method``, ``path`` and ``status``.

Invitation tokens in paths are redacted in every field (:mod:`townhall.logging_filters`).
Townhall never logs question text or cookies; the loggers that would at ``debug`` (SQL
parameters, WebSocket frames) are held at ``warning`` whatever ``TOWNHALL_LOG_LEVEL`` says, and
the WebSocket wire trace uvicorn logs at ``debug`` is dropped (:class:`HideWire`).

This module imports nothing of Townhall but the redaction pattern, so every layer may set the
context variables.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from townhall.logging_filters import TOKEN_PATH

REQUEST_ID: ContextVar[str | None] = ContextVar("townhall_request_id", default=None)
CONNECTION_ID: ContextVar[str | None] = ContextVar("townhall_connection_id", default=None)

# Loggers that print SQL parameters or WebSocket frames (question text, cookies) at debug, and
# alembic, whose routine INFO lines (plugins set up, each migration run) would open every start.
QUIET = ("sqlalchemy", "websockets", "asyncio", "aiosqlite", "alembic")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def redact(text: str) -> str:
    return TOKEN_PATH.sub(r"\1[redacted]", text)


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str = "") -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if self.process:
            line["process"] = self.process
        if (request_id := REQUEST_ID.get()) is not None:
            line["request_id"] = request_id
        if (connection_id := CONNECTION_ID.get()) is not None:
            line["connection_id"] = connection_id
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            if len(record.args) == 5:
                client, method, path, _, status = record.args
                line.update(client=client, method=method, path=redact(str(path)), status=status)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class HideWire(logging.Filter):
    """Drops the WebSocket library's wire trace (``< TEXT '…'``, ``< cookie: …``, ``> CLOSE
    …``), which uvicorn sends to ``uvicorn.error`` at ``debug``: it carries cookies and
    question text."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno <= logging.DEBUG
            and isinstance(record.msg, str)
            and record.msg[:2] in ("< ", "> ", "= ")
        )


def quiet_level(level: str) -> int:
    return max(logging.WARNING, logging.getLevelName(level.upper()))


def quiet_chatty_loggers(level: str) -> None:
    """Text mode: the loggers of :data:`QUIET` at ``warning`` at least and the wire trace
    dropped, as in JSON mode."""
    for name in QUIET:
        logging.getLogger(name).setLevel(quiet_level(level))
    for handler in logging.getLogger().handlers:
        handler.addFilter(HideWire())


def logging_config(*, level: str, json_format: bool, process: str = "") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the process and for uvicorn (``log_config``): the
    same handler for Townhall's loggers, uvicorn's and anything else that propagates."""
    formatter: dict[str, Any]
    if json_format:
        formatter = {"()": "townhall.log_format.JsonFormatter", "process": process}
    else:
        formatter = {"format": TEXT_FORMAT}
    quiet = quiet_level(level)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {"hide_wire": {"()": "townhall.log_format.HideWire"}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["hide_wire"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            # uvicorn's own handlers would print a second line per record: none, propagate.
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level.upper(), "propagate": True},
            **{name: {"level": logging.getLevelName(quiet)} for name in QUIET},
        },
    }
