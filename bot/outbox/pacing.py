"""Pacing by WeCom's per-member limits: 30 messages a minute and 1000 an hour per app and
member; WeCom drops the excess silently (doc 90236), so the dispatcher waits instead."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.sql import dialect_insert
from models import SendCount

PER_MINUTE, PER_HOUR = 30, 1000  # per app and member; the excess is dropped silently (doc 90236)


def paced_until(session, recipients: list[str], now: datetime) -> datetime | None:
    """When a message to `recipients` may go without exceeding a per-member limit (None: now)."""
    if not recipients:
        return None
    minute = now.replace(second=0, microsecond=0)
    rows = session.execute(
        select(SendCount.userid, SendCount.minute, SendCount.count)
        .where(SendCount.userid.in_(recipients), SendCount.minute > minute - timedelta(hours=1))
    ).all()
    this_minute, this_hour, oldest = {}, {}, {}
    for userid, bucket, count in rows:
        this_hour[userid] = this_hour.get(userid, 0) + count
        oldest[userid] = min(oldest.get(userid, bucket), bucket)
        if bucket == minute:
            this_minute[userid] = count
    if any(count >= PER_HOUR for count in this_hour.values()):
        userid = next(u for u, c in this_hour.items() if c >= PER_HOUR)
        return oldest[userid] + timedelta(hours=1, minutes=1)
    if any(count >= PER_MINUTE for count in this_minute.values()):
        return minute + timedelta(minutes=1)
    return None


def count_sends(session, recipients: list[str], now: datetime) -> None:
    """Add one to this minute's count of each recipient."""
    minute = now.replace(second=0, microsecond=0)
    insert = dialect_insert(session)
    for index in range(0, len(recipients), 500):
        statement = insert(SendCount).values(
            [{"userid": u, "minute": minute, "count": 1} for u in recipients[index:index + 500]])
        session.execute(statement.on_conflict_do_update(
            index_elements=["userid", "minute"], set_={"count": SendCount.count + 1}))
