"""What a callback must satisfy besides its signature. Each check returns a reason to refuse
(for the log), or None.

- A fresh timestamp: a signature never expires, so a captured callback could be posted again once
  its dedup key is pruned (7 days). The query's `timestamp` is covered by the signature
  (msg_signature = sha1(sort(token, timestamp, nonce, Encrypt)), doc 90968 / third-party copy
  https://developer.work.weixin.qq.com/document/path/91144), so a replay cannot freshen it.
  WeCom posts at once and retries an unanswered callback three times, 5 s apart (doc 90238 /
  96466), so a day back and a few minutes ahead (clock skew) let every genuine delivery in."""

from __future__ import annotations

import re

TIMESTAMP = re.compile(r"\d{1,12}")


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

