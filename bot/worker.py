"""`flask --app bot worker`: the outbox dispatcher, the daily directory sync and the daily
reminder run, in one process.

The schedule is a row, not memory: the day's run is recorded in KeyValue, and the run itself
is idempotent, so a restart, or a second worker by mistake, sends nothing twice."""

from __future__ import annotations

import logging
import signal
import threading

from sqlmodel import Session

from bot import outbox, reminders
from bot.sql import claim_row
from models import KeyValue

log = logging.getLogger(__name__)
LAST_RUN = "reminders:last-run"
LAST_SYNC = "directory:last-sync"


def run_worker(app, *, stop: threading.Event | None = None, poll_seconds: float = 30) -> None:
    """Deliver the outbox continuously; sync the directory, then run reminders, once a day at
    REMINDER_TIME (Shanghai)."""
    stop = stop or threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            signal.signal(sig, lambda *_: stop.set())
        except ValueError:  # not the main thread (tests)
            pass
    thread = app.extensions["filingbot.dispatcher_thread"]
    thread.start()
    log.info("worker started: outbox dispatcher and daily reminders")
    while not stop.is_set():
        try:
            sync_if_due(app)
        except Exception:
            log.exception("directory sync failed; will retry")
        try:
            run_if_due(app)
        except Exception:
            log.exception("reminder run failed; will retry")
        stop.wait(poll_seconds)
    thread.stop()


def sync_if_due(app) -> bool:
    """Refresh the directory and check drift once a day at REMINDER_TIME, before the reminders
    (which then reach the current heads); a failed sync is tried again at the next poll."""
    now = app.extensions["filingbot.clock"].local_now()
    if now.time() < reminders.due_time(app.config["SETTINGS"]) or _ran(app, LAST_SYNC, now):
        return False
    counts = reminders.sync_and_check(app, now.date())
    _record(app, LAST_SYNC, now)
    log.info("directory sync for %s: %s departments, %s users, %s left, %s drifted",
             now.date(), counts["departments"], counts["users"], counts["left"],
             counts["drifted"])
    return True


def run_if_due(app) -> bool:
    """Run today's reminders if it is past REMINDER_TIME and they have not run today."""
    clock = app.extensions["filingbot.clock"]
    now = clock.local_now()
    if now.time() < reminders.due_time(app.config["SETTINGS"]) or _ran(app, LAST_RUN, now):
        return False
    report = reminders.run(app, now.date())
    outbox.prune(app.extensions["filingbot.engine"], clock.now())
    _record(app, LAST_RUN, now)
    log.info("reminders for %s: %s", now.date(), reminders.describe(report))
    return True


def _ran(app, key: str, now) -> bool:
    """Whether the daily job recorded under `key` already ran on now's date."""
    with Session(app.extensions["filingbot.engine"]) as session:
        row = session.get(KeyValue, key)
        done = row is not None and row.value == now.date().isoformat()
        session.rollback()
    return done


def _record(app, key: str, now) -> None:
    with Session(app.extensions["filingbot.engine"]) as session:
        claim_row(session, KeyValue, key=key, value="").value = now.date().isoformat()
        session.commit()
