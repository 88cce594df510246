"""The app's notion of "now": real time in production, a movable clock in tests and `--today`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    """Real UTC time."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        return datetime.now(timezone.utc)

    def local_now(self) -> datetime:
        """Current time in Asia/Shanghai, where the school lives."""
        return self.now().astimezone(SHANGHAI)


class FixedClock(Clock):
    """A clock that moves only when told to (tests, `reminders run --today`)."""

    def __init__(self, at: datetime):
        self.at = at if at.tzinfo else at.replace(tzinfo=SHANGHAI)

    def now(self) -> datetime:
        return self.at.astimezone(timezone.utc)

    def advance(self, **delta) -> None:
        """Move the clock forward by timedelta(**delta)."""
        self.at = self.at + timedelta(**delta)
