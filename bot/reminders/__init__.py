"""Reminders that run themselves (SPEC §6): the annual review campaign, the office's weekly
digest and final report, and nudges for approvals left waiting.

`run(app, today)` computes what is due on `today` and queues it. Every reminder is a
ReminderSent row under a unique (kind, target, period, seq) key, inserted with ON CONFLICT DO
NOTHING … RETURNING: only the rows this run inserted get outbox messages, so a second run the
same day, or a second process at the same time, queues nothing twice. The campaign is planned
and recorded a page of accounts at a time (plan.CHUNK), all in the run's one transaction: a
crash anywhere leaves nothing recorded and nothing queued, and the next run starts over; each
person's reminders are gathered across pages into one message (delivery.Annual).

Modules: `common` (constants, Planned), `plan` (what is due), `admin_drift` (变更 requests),
`delivery` (record keys, queue messages), `report` (describe), `daily` (run);
progress is workflow.review's."""

from bot.reminders.admin_drift import check_drift, sync_and_check
from bot.reminders.common import due_time, review_window
from bot.reminders.daily import run
from bot.reminders.report import describe

__all__ = ["check_drift", "describe", "due_time", "review_window", "run",
           "sync_and_check"]
