"""注销 carried out (art. 7): after the office's approval the account is 注销中 until whoever
keeps it confirms, with the day, that it is gone from its platform (the CLOSE kind's `closure`
stage); that confirmation closes it and completes any closure a failed 年检 ordered."""

from __future__ import annotations

from datetime import date, timedelta

from models import Account, AuditLog, Filing
from workflow.forms import validators as v

EARLIEST = timedelta(days=366)  # a closing day more than a year back is surely a typo


def record_closed_on(uow, filing_id: int, text: str) -> tuple[Account, date]:
    """The day the filing's account was closed on its platform, from the decider's words
    (2026-11-20, 11月20日, 今天 …); raises v.Invalid for a day in the future or long past."""
    filing = uow.session.get(Filing, filing_id)
    account = uow.session.get(Account, filing.account_id)
    today = uow.clock.local_now().date()
    day = v.day(text, today=today, ahead=False)
    if day > today:
        raise v.Invalid("day_future", value=day.isoformat())
    if day < today - EARLIEST:
        raise v.Invalid("day_long_ago", value=day.isoformat())
    set_closed_on(uow, filing, account, day)
    return account, day


def set_closed_on(uow, filing: Filing, account: Account, day: date) -> None:
    """Store the closing day on the account, audited (a day it already has is not written
    again: confirming today's default once more is no change)."""
    before = (account.details or {}).get("closed_on")
    if before == day.isoformat():
        return
    account.details = {**(account.details or {}), "closed_on": day.isoformat()}
    account.updated_at = uow.clock.now()
    uow.session.add(AuditLog(at=uow.clock.now(), actor=uow.actor.userid,
                             action="account:closed_on", filing_id=filing.id,
                             account_id=account.id, before={"closed_on": before},
                             after={"closed_on": day.isoformat()}))
