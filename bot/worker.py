"""`flask --app bot worker`: the outbox dispatcher plus the daily reminder run, in one process.

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


def run_worker(app, *, stop: threading.Event | None = None, poll_seconds: float = 30) -> None:
    """Deliver the outbox continuously; run reminders once a day at REMINDER_TIME (Shanghai)."""
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
            run_if_due(app)
        except Exception:
            log.exception("reminder run failed; will retry")
        stop.wait(poll_seconds)
    thread.stop()


def run_if_due(app) -> bool:
    """Run today's reminders if it is past REMINDER_TIME and they have not run today."""
    clock = app.extensions["filingbot.clock"]
    now = clock.local_now()
    if now.time() < reminders.due_time(app.config["SETTINGS"]):
        return False
    engine = app.extensions["filingbot.engine"]
    with Session(engine) as session:
        row = session.get(KeyValue, LAST_RUN)
        done = row is not None and row.value == now.date().isoformat()
        session.rollback()
    if done:
        return False
    report = reminders.run(app, now.date())
    outbox.prune(engine, clock.now())
    with Session(engine) as session:
        claim_row(session, KeyValue, key=LAST_RUN, value="").value = now.date().isoformat()
        session.commit()
    log.info("reminders for %s: %s", now.date(), reminders.describe(report))
    return True
