"""Keep login codes, states and access tokens out of request logs.

WeCom sends the member back to /login/callback?code=…&state=…; the development server (and
gunicorn's access log, when enabled) would write that line as it came."""

from __future__ import annotations

import logging
import re

from flask import Flask

SENSITIVE = re.compile(r"((?:^|[?&;\s])(?:code|state|access_token|corpsecret)=)[^&\s\"']+",
                       re.IGNORECASE)
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access")


def redact(text: str) -> str:
    """`text` with the values of code=, state=, access_token= and corpsecret= hidden."""
    return SENSITIVE.sub(r"\1***", text)


class RedactFilter(logging.Filter):
    """Rewrite a record's message with `redact` before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def init_app(app: Flask) -> None:
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactFilter) for f in logger.filters):
            logger.addFilter(RedactFilter())
