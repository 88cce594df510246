"""What is due on a day: the annual review campaign, the notices to departments that have not
answered it, the office's digests and approval nudges,
each as a list of Planned reminders (nothing is written here)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select

from bot.reminders.common import (
    DEADLINE_NOTICE,
    DIGEST_WEEKDAY,
    ESCALATE_FROM,
    NUDGE_AFTER,
    NUDGE_EVERY,
    NUDGE_MAX,
    OVERDUE,
    REMIND_EVERY,
    Planned,
    review_window,
)
from models import (
    Account,
    AccountStatus,
    Filing,
    FilingStatus,
    Membership,
    ReminderSent,
    User,
)
from workflow.deadlines import OPEN_CASES
from workflow.kinds import stage_of
from workflow.review import reviewed_accounts
from workflow.roles import holders
from workflow.routing import approvers
from workflow.unanswered import with_contacts as owing_departments


def campaign(session, settings, today: date) -> list[Planned]:
    """Annual review (art. 7) for last year: every active account without a 年检 for it."""
    start, end = review_window(settings, today.year)
    if not start <= today <= end:
        return []
    year = today.year - 1
    period = str(year)
    reviewed = reviewed_accounts(session, year)
    last = dict(session.execute(
        select(ReminderSent.target, func.max(ReminderSent.seq))
        .where(ReminderSent.kind == "annual", ReminderSent.period == period)
        .group_by(ReminderSent.target)).all())
    last_on = dict(session.execute(
        select(ReminderSent.target, func.max(ReminderSent.sent_on))
        .where(ReminderSent.kind == "annual", ReminderSent.period == period)
        .group_by(ReminderSent.target)).all())
    heads = department_heads_map(session)
    active = active_userids(session)
    planned = []
    for account in session.execute(select(
            Account.id, Account.name, Account.filing_no, Account.department_id,
            Account.admin_userids, Account.platform)
            .where(Account.status == AccountStatus.ACTIVE)).all():
        if account.id in reviewed:
            continue
        target = str(account.id)
        sent_on = last_on.get(target)
        if sent_on is not None and today - sent_on < REMIND_EVERY:
            continue
        seq = last.get(target, 0) + 1
        admins = [u for u in (account.admin_userids or []) if u in active]
        dept_heads = heads.get(account.department_id, [])
        recipients = admins or dept_heads
        escalate = dept_heads if seq >= ESCALATE_FROM else []
        planned.append(Planned("annual", target, period, seq,
                               sorted(set(recipients) | set(escalate)), {
            "account": {"id": account.id, "name": account.name, "filing_no": account.filing_no},
            "admins": recipients, "heads": escalate, "department_id": account.department_id}))
    return planned


def unanswered(session, settings, today: date) -> list[Planned]:
    """The campaign's notice to each department that owes an answer (no active account, no
    零报告; workflow.unanswered), every 7 days in the window: its contacts, its heads too from
    the third round (from the first when it has no contacts)."""
    start, end = review_window(settings, today.year)
    if not start <= today <= end:
        return []
    year = today.year - 1
    period = str(year)
    last = {target: (seq, sent_on) for target, seq, sent_on in session.execute(
        select(ReminderSent.target, func.max(ReminderSent.seq), func.max(ReminderSent.sent_on))
        .where(ReminderSent.kind == "zero", ReminderSent.period == period)
        .group_by(ReminderSent.target))}
    planned = []
    for department in owing_departments(session, year):
        target = str(department.department_id)
        seq, sent_on = last.get(target, (0, None))
        if sent_on is not None and today - sent_on < REMIND_EVERY:
            continue
        seq += 1
        heads = department.heads if seq >= ESCALATE_FROM or not department.contacts else []
        recipients = sorted(set(department.contacts) | set(heads))
        if recipients:
            planned.append(Planned("zero", target, period, seq, recipients, {
                "year": year, "department_id": department.department_id,
                "name": department.name, "contacts": department.contacts, "heads": heads,
                "all_heads": department.heads}))
    return planned


def department_heads_map(session) -> dict[int, list[str]]:
    heads = defaultdict(list)
    for userid, dept_id in session.execute(
            select(Membership.userid, Membership.department_id)
            .join(User, User.userid == Membership.userid)
            .where(Membership.is_leader.is_(True), User.active.is_(True))).all():
        heads[dept_id].append(userid)
    return heads


def active_userids(session) -> set[str]:
    return set(session.scalars(select(User.userid).where(User.active.is_(True))))


def digests(session, settings, today: date) -> list[Planned]:
    """The office's weekly digest in the window, and one final report after it (art. 7)."""
    start, end = review_window(settings, today.year)
    office = holders(session, "office")
    if not office:
        return []
    year = today.year - 1
    planned = []
    if start <= today <= end and today.weekday() == DIGEST_WEEKDAY:
        week = today.isocalendar()
        planned.append(Planned("digest", "office", f"{week.year}-W{week.week:02d}", 1, office,
                               {"year": year, "final": False}))
    if today > end:
        planned.append(Planned("final", "office", str(year), 1, office,
                               {"year": year, "final": True}))
    return planned


def nudges(session, clock, today: date) -> list[Planned]:
    """催办: a filing waiting at a stage for more than 3 days, every 2 days, 3 times at most;
    then, for a stage that names one, its `escalate_to` role is told once."""
    cutoff = clock.now() - NUDGE_AFTER
    planned = []
    waiting = session.scalars(select(Filing).where(Filing.status.in_(FilingStatus.waiting_ones()),
                                                   Filing.updated_at < cutoff)).all()
    for filing in waiting:
        stage = stage_of(filing)
        target, period = f"{filing.id}:{stage.name}", f"v{filing.version}"
        rows = session.execute(select(ReminderSent.seq, ReminderSent.sent_on).where(
            ReminderSent.kind == "nudge", ReminderSent.target == target,
            ReminderSent.period == period)).all()
        if any(today - sent_on < NUDGE_EVERY for _, sent_on in rows):
            continue
        if len(rows) >= NUDGE_MAX:
            planned += escalation(session, filing, stage, target, period)
            continue
        recipients = approvers(session, filing, stage)
        if recipients:
            planned.append(Planned("nudge", target, period, len(rows) + 1, recipients,
                                   {"filing_id": filing.id}))
    return planned


def escalation(session, filing, stage, target: str, period: str) -> list[Planned]:
    """After the last nudge, once: the stage's `escalate_to` role (the office, for 举报 left
    with tech) is told the filing is stuck."""
    if not stage.escalate_to:
        return []
    recipients = [u for u in holders(session, stage.escalate_to) if u != filing.submitter]
    if not recipients or session.scalar(select(ReminderSent.id).where(
            ReminderSent.kind == "stalled", ReminderSent.target == target,
            ReminderSent.period == period)) is not None:
        return []
    return [Planned("stalled", target, period, 1, recipients,
                    {"filing_id": filing.id, "nudges": NUDGE_MAX})]


def deadlines(session, today: date) -> list[Planned]:
    """限期整改 and ordered closures with a deadline (workflow.deadlines): the account's
    administrators a week before and the day before; after it, they, the department's heads
    and the office. Only the latest step due is sent (a late first run skips stale ones); a
    new deadline starts over."""
    office = holders(session, "office")
    heads = department_heads_map(session)
    active = active_userids(session)
    planned = []
    for case in session.scalars(select(Filing).where(Filing.due_on.is_not(None),
                                                     Filing.status.in_(OPEN_CASES))):
        step = deadline_step(case.due_on, today)
        if step is None:
            continue
        target, period = str(case.id), case.due_on.isoformat()
        if session.scalar(select(ReminderSent.id).where(
                ReminderSent.kind == "deadline", ReminderSent.target == target,
                ReminderSent.period == period, ReminderSent.seq >= step)) is not None:
            continue
        account = session.get(Account, case.account_id) if case.account_id else None
        dept_heads = heads.get(case.department_id, [])
        admins = [u for u in (account.admin_userids if account else []) if u in active]
        admins = admins or dept_heads
        escalate = sorted(set(dept_heads) | set(office)) if step == OVERDUE else []
        planned.append(Planned("deadline", target, period, step,
                               sorted(set(admins) | set(escalate)), {
            "filing_id": case.id, "admins": admins, "escalate": escalate}))
    return planned


def deadline_step(due_on: date, today: date) -> int | None:
    """1: within a week of the deadline, 2: the day before or on it, 3 (OVERDUE): after it."""
    if today > due_on:
        return OVERDUE
    if today >= due_on - timedelta(days=1):
        return 2
    if today >= due_on - DEADLINE_NOTICE:
        return 1
    return None
