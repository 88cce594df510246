"""Which failed deliveries are worth retrying, backoff, and error descriptions."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import requests
from wechatpy.exceptions import WeChatClientException

BACKOFF_CAP = 600  # seconds

# Errcodes that say "try again later", from the global error codes (全局错误码,
# https://developer.work.weixin.qq.com/document/path/90313): -1 系统繁忙 "服务器暂不可用，建议
# 稍候重试"; 6000 数据版本冲突 "稍后重试"; 45009 接口调用超过限制 (lifted after the limit's
# period); 45033 接口并发调用超过限制. 40014/42001 (the token) reach us only when a fresh token
# failed too. The same page, under 45009: "仅系统失败需要重试。其余错误码，应该排查下调用失败
# 原因" — every other errcode (an invalid user, a card that breaks a rule) is final.
RETRYABLE_ERRORS = frozenset({-1, 6000, 45009, 45033, 40014, 42001})


def is_retryable(exc: Exception) -> bool:
    """Whether a failed call may succeed later: network errors, HTTP errors and busy codes."""
    if isinstance(exc, requests.RequestException):
        return True
    if isinstance(exc, WeChatClientException):
        return exc.errcode is None or exc.errcode in RETRYABLE_ERRORS  # None: an HTTP error
    return False


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with full jitter, capped: 1-2 s, 2-4 s, … up to 10 minutes."""
    base = min(2 ** (attempts - 1), BACKOFF_CAP)
    return timedelta(seconds=base + random.uniform(0, base))


SECRET_PARAMS = re.compile(r"(access_token|corpsecret)=[^&\s'\"]+")
QUERY_STRING = re.compile(r"(/cgi-bin/[\w/]+)\?[^\s'\")]*")


def describe_error(exc: Exception) -> str:
    """A one-line description of a failed call, with tokens and secrets removed."""
    if isinstance(exc, WeChatClientException) and exc.errcode is not None:
        text = f"errcode {exc.errcode}: {exc.errmsg}"
    elif isinstance(exc, WeChatClientException):
        status = getattr(exc.response, "status_code", "?")
        text = f"HTTP {status}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    # URLs lose their query: it carries the access token or the Secret, and only the path helps.
    return QUERY_STRING.sub(r"\1", SECRET_PARAMS.sub(r"\1=***", text))
