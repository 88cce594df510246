"""The sandbox clock: the day (and time of day) the whole sandbox lives on.

`flask --app bot sandbox today 2027-01-05` or the clock on /sandbox moves it; chat, cards,
reminders, quiet hours and the emulated WeCom all read it. It is a row in the database, so
every process (web workers, `worker`, `outbox drain`, the console) lives on the same day.
Time keeps flowing from the moment set. Production (WeCom credentials configured) never
builds one: `create_app` installs it in sandbox mode only.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session

from bot.clock import SHANGHAI, Clock
from bot.db import read_only
from bot.sql import claim_row
from models import KeyValue, OutboxMessage, SendCount

KEY = "sandbox:clock-offset"  # seconds between the sandbox's time and the real time
# How long a process trusts the offset it read: every callback reads the clock several times,
# and a change made by another process shows within this.
CACHE_SECONDS = 0.5
LEASE_AFTER_JUMP = timedelta(seconds=60)


class SandboxClock(Clock):
    """Real time shifted by the offset stored in the database."""

    def __init__(self, engine, cache_seconds: float = CACHE_SECONDS):
        self.engine = engine
        self.cache_seconds = cache_seconds
        self._cached: tuple[timedelta, float] | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The sandbox's current time, timezone-aware UTC."""
        return datetime.now(timezone.utc) + self.offset()

    def offset(self) -> timedelta:
        """How far the sandbox is from real time (read from the database, briefly cached)."""
        cached = self._cached
        if cached is not None and time.monotonic() - cached[1] < self.cache_seconds:
            return cached[0]
        with self._lock:
            try:
                # Read-only: the clock is read inside callbacks' write transactions, and a
                # second write transaction in the same thread would wait for itself.
                with read_only(self.engine.connect()) as conn:
                    value = conn.scalar(select(KeyValue.value).where(KeyValue.key == KEY))
                    conn.rollback()
            except (OperationalError, ProgrammingError):
                return timedelta(0)  # not migrated yet (`db upgrade` is running): real time
            offset = timedelta(seconds=float(value or 0))
            self._cached = (offset, time.monotonic())
        return offset

    def forget(self) -> None:
        """Read the offset again on the next call (after this process changed it)."""
        self._cached = None

    @property
    def shifted(self) -> bool:
        """Whether the sandbox lives on another time than the real one."""
        return self.offset() != timedelta(0)


def set_sandbox_time(clock: SandboxClock, target: datetime | None) -> datetime:
    """Make `target` (Asia/Shanghai when naive; None: real time) the sandbox's now; return it.

    Rows stamped "in the future" by a clock that was ahead are brought back to the new now:
    queued messages would otherwise wait, and per-member send counts would pace, until the
    new clock catches up with the old one."""
    real = datetime.now(timezone.utc)
    if target is not None and target.tzinfo is None:
        target = target.replace(tzinfo=SHANGHAI)
    offset = timedelta(0) if target is None else target - real
    now = real + offset
    with Session(clock.engine) as session:
        claim_row(session, KeyValue, key=KEY, value="0").value = f"{offset.total_seconds():.6f}"
        session.execute(update(OutboxMessage)
                        .where(OutboxMessage.status == "pending",
                               OutboxMessage.next_attempt_at > now)
                        .values(next_attempt_at=now))
        session.execute(update(OutboxMessage)
                        .where(OutboxMessage.status == "sending",
                               OutboxMessage.lease_until > now + LEASE_AFTER_JUMP)
                        .values(lease_until=now + LEASE_AFTER_JUMP))
        session.execute(delete(SendCount).where(SendCount.minute > now))
        session.commit()
    clock.forget()
    return now
