"""Shared pieces of the reminders: the timing constants, a planned reminder, the job's ctx, and
the dates read from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta

from sqlmodel import Session

from bot import outbox
from bot.render import render_text

REMIND_EVERY = timedelta(days=7)
ESCALATE_FROM = 3  # the third reminder of an account also goes to its department's heads
NUDGE_AFTER = timedelta(days=3)
NUDGE_EVERY = timedelta(days=2)
NUDGE_MAX = 3
DIGEST_WEEKDAY = 0  # Monday
# A 年检 in these statuses stops the campaign for its account: approved, on its way, or sent
# back for rectification with a deadline of its own (限期整改).
DONE_STATUSES = ("awaiting_dept", "awaiting_office", "approved", "done", "returned")
WAITING = ("awaiting_dept", "awaiting_office", "awaiting_tech", "awaiting_build")


@dataclass
class Planned:
    """A reminder that may be due: its unique key, who gets it and what it is about."""

    kind: str
    target: str
    period: str
    seq: int
    recipients: list[str]
    data: dict = field(default_factory=dict)


@dataclass
class JobCtx:
    """What routing code needs from a handler's ctx, for work done by the job."""

    session: Session
    settings: object
    clock: object  # timestamps of what is queued
    enqueued: int = 0
    as_of: object = None  # "now" for what is due (defaults to clock)

    def send(self, userids, template, *, automatic=True, dedup_key=None, **context):
        outbox.enqueue_text(self.session, userids, render_text(template, **context),
                            automatic=automatic, dedup_key=dedup_key, now=self.clock.now())
        self.enqueued += 1


def review_window(settings, year: int) -> tuple[date, date]:
    (sm, sd), (em, ed) = settings.review_window
    return date(year, sm, sd), date(year, em, ed)


def due_time(settings) -> time:
    return time(*settings.reminder_time)
