"""Backoff and error descriptions for failed deliveries."""

from __future__ import annotations

import random
import re
from datetime import timedelta

from wechatpy.exceptions import WeChatClientException

BACKOFF_CAP = 600  # seconds


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with full jitter, capped: 1-2 s, 2-4 s, … up to 10 minutes."""
    base = min(2 ** (attempts - 1), BACKOFF_CAP)
    return timedelta(seconds=base + random.uniform(0, base))


SECRET_PARAMS = re.compile(r"(access_token|corpsecret)=[^&\s'\"]+")


def describe_error(exc: Exception) -> str:
    """A one-line description of a failed call, with tokens and secrets removed."""
    if isinstance(exc, WeChatClientException) and exc.errcode is not None:
        text = f"errcode {exc.errcode}: {exc.errmsg}"
    elif isinstance(exc, WeChatClientException):
        status = getattr(exc.response, "status_code", "?")
        text = f"HTTP {status}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return SECRET_PARAMS.sub(r"\1=***", text)
