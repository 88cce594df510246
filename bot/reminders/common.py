"""Shared pieces of the reminders: the timing constants, a planned reminder, and the dates read
from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta

REMIND_EVERY = timedelta(days=7)
ESCALATE_FROM = 3  # an account's third reminder, a department's third notice: its heads too
NUDGE_AFTER = timedelta(days=3)
NUDGE_EVERY = timedelta(days=2)
NUDGE_MAX = 3
DIGEST_WEEKDAY = 0  # Monday
DEADLINE_NOTICE = timedelta(days=7)  # a deadline's first reminder, a week before it
OVERDUE = 3  # the deadline reminder's last step: past it, the heads and the office are told


@dataclass
class Planned:
    """A reminder that may be due: its unique key, who gets it and what it is about."""

    kind: str
    target: str
    period: str
    seq: int
    recipients: list[str]
    data: dict = field(default_factory=dict)


def review_window(settings, year: int) -> tuple[date, date]:
    (sm, sd), (em, ed) = settings.review_window
    return date(year, sm, sd), date(year, em, ed)


def due_time(settings) -> time:
    return time(*settings.reminder_time)
