"""The daily run: plan what is due on a day, record its keys and queue the messages."""

from __future__ import annotations

from datetime import date

from bot.notify import unit_of_work
from bot.reminders.delivery import Annual, deliver, record
from bot.reminders.plan import campaign, deadlines, digests, nudges, unanswered


def run(app, today: date, *, dry_run: bool = False, clock=None) -> dict:
    """Queue everything due on `today`; return what was queued (nothing on a dry run).

    `clock` says what "now" is for deciding what is due (`reminders run --today`); the
    messages themselves are queued at the app's real time, so they go out at once."""
    as_of = clock or app.extensions["filingbot.clock"]
    settings = app.config["SETTINGS"]
    with unit_of_work(app, as_of=as_of) as job:
        session = job.session
        # the campaign is recorded a chunk at a time as it is planned; its annual reminders
        # are gathered per person (Annual)
        annual, recorded = Annual(), []
        for chunk in campaign(session, settings, today):
            recorded += annual.add(record(session, chunk, today) if not dry_run else chunk)
        planned = [*unanswered(session, settings, today), *digests(session, settings, today),
                   *nudges(session, as_of, today), *deadlines(session, today)]
        inserted = record(session, planned, today) if not dry_run else planned
        report = deliver(job, [*recorded, *inserted], today, annual)
        if not dry_run:
            job.commit()
    report["dry_run"] = dry_run
    return report
