"""What a callback must satisfy besides its signature. Each check returns a reason to refuse
(for the log), or None.

- A fresh timestamp: a signature never expires, so a captured callback could be posted again once
  its dedup key is pruned (7 days). The query's `timestamp` is covered by the signature
  (msg_signature = sha1(sort(token, timestamp, nonce, Encrypt)), doc 90968 / third-party copy
  https://developer.work.weixin.qq.com/document/path/91144), so a replay cannot freshen it.
  WeCom posts at once and retries an unanswered callback three times, 5 s apart (doc 90238 /
  96466), so a day back and a few minutes ahead (clock skew) let every genuine delivery in.
- Fields shaped as WeCom documents them: MsgId is a 64-bit integer and CreateTime a Unix time
  (消息格式, doc 90239); a UserID is 1-64 characters (global error code 40003,
  https://developer.work.weixin.qq.com/document/path/90313). Anything else was not sent by
  WeCom, and must not reach a column sized for what WeCom sends (PostgreSQL refuses a value
  longer than its VARCHAR, which would be a 500 and three retries)."""

from __future__ import annotations

import re

TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII: str.isdigit() and \d accept "１２"
USERID = re.compile(r"[^\s\x00-\x1f\x7f]{1,64}")
NUMBERS = {"MsgId": re.compile(r"[0-9]{1,20}"), "CreateTime": re.compile(r"[0-9]{1,12}")}


def timestamp_problem(timestamp: str, now: float, window: tuple[int, int]) -> str | None:
    """Why the signed `timestamp` is outside [now - back, now + ahead], or None if it is not."""
    if not TIMESTAMP.fullmatch(timestamp):
        return "timestamp is not a Unix time"
    back, ahead = window
    age = int(now) - int(timestamp)
    if age > back:
        return f"timestamp {timestamp} is {age} s old (window: {back} s back)"
    if -age > ahead:
        return f"timestamp {timestamp} is {-age} s ahead (window: {ahead} s ahead)"
    return None


def fields_problem(raw: dict) -> str | None:
    """Why the decrypted message's fields cannot be from WeCom, or None."""
    source = raw.get("FromUserName")
    if not isinstance(source, str) or not USERID.fullmatch(source):
        return "FromUserName is not a WeCom UserID (1-64 characters)"
    for name, shape in NUMBERS.items():
        value = raw.get(name)
        if value is not None and not (isinstance(value, str) and shape.fullmatch(value.strip())):
            return f"{name} is not a number"
    if raw.get("CreateTime") is None:
        return "CreateTime is missing"
    return None
