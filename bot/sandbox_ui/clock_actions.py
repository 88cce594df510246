"""Time travel in the sandbox, one implementation for the page and the CLI: move the sandbox
clock, run that day's reminders, and say what the sandbox's today is."""

from __future__ import annotations

from datetime import date, datetime, time

from bot import reminders
from bot.clock import SHANGHAI
from bot.outbox.waiting import describe, waiting
from bot.render import render_text
from bot.sandbox_clock import SandboxClock, set_sandbox_time


class NotSandbox(RuntimeError):
    """The app is not in sandbox mode (or runs on a test clock): there is no sandbox clock."""


def sandbox_clock(app) -> SandboxClock:
    """The app's sandbox clock; NotSandbox in production."""
    clock = app.extensions["filingbot.clock"]
    if not app.config["SETTINGS"].sandbox or not isinstance(clock, SandboxClock):
        raise NotSandbox
    return clock


def travel(app, day: date | None, at: time | None = None) -> datetime:
    """Make the sandbox live on `day` from `at` (default REMINDER_TIME); None: real time again."""
    clock = sandbox_clock(app)
    if day is None:
        return set_sandbox_time(clock, None)
    at = at or reminders.due_time(app.config["SETTINGS"])
    return set_sandbox_time(clock, datetime.combine(day, at, tzinfo=SHANGHAI))


def run_reminders(app) -> str:
    """Queue what is due on the sandbox's today; say what was queued and what waits."""
    clock = sandbox_clock(app)
    report = reminders.run(app, clock.local_now().date())
    return "\n".join(filter(None, [reminders.describe(report), waiting_text(app)]))


def waiting_text(app) -> str:
    """What the outbox holds back now and until when ('' when nothing)."""
    clock = app.extensions["filingbot.clock"]
    quiet = app.config["SETTINGS"].reminder_quiet_hours
    return describe(waiting(app.extensions["filingbot.engine"], clock.now(), quiet), quiet,
                    clock.local_now())


def today(app) -> dict:
    """The sandbox's date and time as every phone shows it."""
    clock = app.extensions["filingbot.clock"]
    now = clock.local_now()
    shifted = isinstance(clock, SandboxClock) and clock.shifted
    return {"date": now.date().isoformat(), "time": now.strftime("%H:%M"),
            "label": render_text("sandbox/today", now=now, shifted=shifted, real=None),
            "short": render_text("sandbox/today_short", now=now), "shifted": shifted}
