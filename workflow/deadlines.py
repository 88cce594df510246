"""Deadlines (art. 7): a 年检 sent back for 限期整改 must be put right, and a closure ordered by
a failed 年检 carried out, by a day the office gives — 30 days unless it says otherwise. The
filing that must be acted on carries the day (`Filing.due_on`); the daily reminders read it
(bot.reminders.plan.deadlines); a 合格 年检 closes a rectification case."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from models import AuditLog, Decision, Filing, FilingStatus
from workflow.forms import validators as v

DEFAULT = timedelta(days=30)
LONGEST = timedelta(days=366)
OPEN_CASES = (FilingStatus.RETURNED, FilingStatus.ORDERED)  # what a deadline waits on


def default_due(uow) -> date:
    """30 days from today (Beijing time)."""
    return uow.clock.local_now().date() + DEFAULT


def check_due(day: date, today: date) -> date:
    """A deadline must be after today and within a year; raises v.Invalid otherwise."""
    if day <= today:
        raise v.Invalid("deadline_past", value=day.isoformat())
    if day > today + LONGEST:
        raise v.Invalid("deadline_far", value=day.isoformat())
    return day


def set_due(uow, case: Filing, day: date) -> None:
    """Give `case` its deadline, audited."""
    before = case.due_on.isoformat() if case.due_on else None
    case.due_on = day
    uow.session.add(AuditLog(at=uow.clock.now(), actor=uow.actor.userid, action="deadline:set",
                             filing_id=case.id, account_id=case.account_id,
                             before={"due_on": before}, after={"due_on": day.isoformat()}))


def close_case(uow, case: Filing) -> None:
    """The rectification is done (a 合格 年检): the deadline no longer applies."""
    if case.due_on is None:
        return
    uow.session.add(AuditLog(at=uow.clock.now(), actor=uow.actor.userid, action="deadline:done",
                             filing_id=case.id, account_id=case.account_id,
                             before={"due_on": case.due_on.isoformat()}, after={"due_on": None}))
    case.due_on = None


def case_for(session, filing: Filing, decision: Decision) -> Filing | None:
    """The filing whose deadline `decision` (of a choice that sets one) set: the closure it
    ordered, or the filing itself (限期整改); None when there is none."""
    for case in session.scalars(select(Filing).where(
            Filing.kind == "close", Filing.status == FilingStatus.ORDERED,
            Filing.account_id == filing.account_id)):
        if case.fields.get("decision") == decision.id:
            return case
    return filing if filing.due_on is not None and filing.status in OPEN_CASES else None
