"""Keep secrets out of logs: invitation tokens in access-log paths are redacted."""

from __future__ import annotations

import logging
import re

TOKEN_PATH = re.compile(r"(/invitations/)[^\s/?\"]+")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                TOKEN_PATH.sub(r"\1[redacted]", a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = TOKEN_PATH.sub(r"\1[redacted]", record.msg)
        return True


def install() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "townhall"):
        logging.getLogger(name).addFilter(RedactTokens())
