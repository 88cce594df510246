"""What is due on a day: the annual review campaign, the office's digests and approval nudges,
each as a list of Planned reminders (nothing is written here)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import String, cast, func, or_, select

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
from workflow.deciders import Preloaded
from workflow.kinds import stage_of
from workflow.review import counting_annuals
from workflow.roles import holders
from workflow.routing import approvers
from workflow.unanswered import with_contacts as owing_departments


CHUNK = 5_000  # accounts planned and recorded at a time: the run's memory does not grow with
# the registry (tests set it tiny to cross chunk boundaries)


def campaign(session, settings, today: date, *, chunk: int | None = None
             ) -> Iterator[list[Planned]]:
    """Annual review (art. 7) for last year: every active account without a 年检 for it, not
    reminded within REMIND_EVERY, in lists of at most `chunk` (by account id). (Departments
    with no account: `unanswered`.)

    The accounts due are selected in SQL (due_accounts: without a counting 年检, not reminded
    lately), a page of `chunk` active accounts at a time by id range: no list of every
    account, reviewed account or reminder is built in Python, and a page is read only after
    the previous one was recorded (no read cursor stays open on the tables being written)."""
    start, end = review_window(settings, today.year)
    if not start <= today <= end:
        return
    year = today.year - 1
    period = str(year)
    heads = department_heads_map(session)
    active = active_userids(session)
    after = 0
    while after is not None:
        # the page: the next `chunk` active accounts by id (an index range), then those due
        upto = session.scalar(select(Account.id).where(
            Account.status == AccountStatus.ACTIVE, Account.id > after)
            .order_by(Account.id).offset((chunk or CHUNK) - 1).limit(1))
        rows = session.execute(due_accounts(year, today, after, upto)).all()
        if rows:
            yield [annual_reminder(account, period, heads, active) for account in rows]
        after = upto


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


def due_accounts(year: int, today: date, after: int, upto: int | None):
    """SQL, by id, for the accounts after < id <= upto (no upper bound when None): the
    active ones with nothing for `year` (workflow.review's "missing": no counting 年检, not
    marked reviewed) and no annual reminder within REMIND_EVERY: (id, department_id,
    admin_userids, seq of their last reminder or None).

    A page costs its own rows: the reminders are looked up per account by their unique index
    (scalar lookups, which PostgreSQL cannot plan as a join on the statistics of before the
    run, when the table was empty), and the counting 年检 are those of the page's ids (a NOT
    IN list no longer than the page: hashed on PostgreSQL, a list on SQLite, which would look
    them up per account by the year's (kind, year) index instead of the account's)."""
    period = str(year)
    reminded = (ReminderSent.kind == "annual", ReminderSent.period == period,
                ReminderSent.target == cast(Account.id, String))
    seq = select(func.max(ReminderSent.seq)).where(*reminded).correlate(Account) \
        .scalar_subquery()
    last_on = select(func.max(ReminderSent.sent_on)).where(*reminded).correlate(Account) \
        .scalar_subquery()
    in_page = [Account.id > after, *([Account.id <= upto] if upto is not None else [])]
    counted = select(Filing.account_id).where(
        Filing.account_id > after, *([Filing.account_id <= upto] if upto is not None else []),
        counting_annuals(year))
    return (select(Account.id, Account.department_id, Account.admin_userids, seq.label("seq"))
            .where(*in_page, Account.status == AccountStatus.ACTIVE,
                   func.coalesce(Account.last_review_year, 0) < year,
                   Account.id.not_in(counted),
                   or_(last_on.is_(None), last_on <= today - REMIND_EVERY))
            .order_by(Account.id))


def annual_reminder(account, period: str, heads: dict, active: set) -> Planned:
    """The reminder of one account due: its administrators still in the directory (else the
    department's heads), and from the ESCALATE_FROM-th reminder on the heads as well. (The
    account's name is read again when the message is written: delivery.annual_messages.)"""
    seq = (account.seq or 0) + 1
    admins = [u for u in (account.admin_userids or ()) if u in active]
    dept_heads = heads.get(account.department_id, [])
    recipients = admins or dept_heads
    escalate = dept_heads if seq >= ESCALATE_FROM else []
    return Planned("annual", str(account.id), period, seq, sorted({*recipients, *escalate}),
                   {"account_id": account.id, "admins": recipients, "heads": escalate})


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


NUDGE_BATCH = 500  # waiting filings read, and their nudges looked up, at a time


def nudges(session, clock, today: date, *, batch: int = NUDGE_BATCH) -> list[Planned]:
    """催办: a filing waiting at a stage for more than 3 days, every 2 days, 3 times at most;
    then, for a stage that names one, its `escalate_to` role is told once.

    The waiting filings are read `batch` at a time with their nudges so far (one grouped
    query per batch); departments' heads and roles' holders are read once for the run
    (workflow.deciders.Preloaded), so a day with thousands of nudges asks no query per
    filing (except for stages decided per account: routing.account_keepers)."""
    cutoff = clock.now() - NUDGE_AFTER
    lookup = Preloaded(session)
    query = (select(Filing).where(Filing.status.in_(FilingStatus.waiting_ones()),
                                  Filing.updated_at < cutoff).order_by(Filing.id))
    planned, after = [], 0
    while True:
        waiting = session.scalars(query.where(Filing.id > after).limit(batch)).all()
        if not waiting:
            return planned
        after = waiting[-1].id
        at = {f"{f.id}:{stage_of(f).name}": f for f in waiting}
        sent = {(row.target, row.period): row for row in session.execute(
            select(ReminderSent.target, ReminderSent.period, func.count().label("count"),
                   func.max(ReminderSent.sent_on).label("last"))
            .where(ReminderSent.kind == "nudge", ReminderSent.target.in_(list(at)))
            .group_by(ReminderSent.target, ReminderSent.period))}
        stalled = set(session.execute(
            select(ReminderSent.target, ReminderSent.period)
            .where(ReminderSent.kind == "stalled", ReminderSent.target.in_(list(at)))).all())
        for target, filing in at.items():
            stage, period = stage_of(filing), f"v{filing.version}"
            history = sent.get((target, period))
            count = history.count if history else 0
            if history and today - history.last < NUDGE_EVERY:
                continue
            if count >= NUDGE_MAX:
                if (target, period) not in stalled:
                    planned += escalation(lookup, filing, stage, target, period)
                continue
            recipients = approvers(session, filing, stage, lookup=lookup)
            if recipients:
                planned.append(Planned("nudge", target, period, count + 1, recipients,
                                       {"filing_id": filing.id, "filing": filing}))


def escalation(lookup, filing, stage, target: str, period: str) -> list[Planned]:
    """After the last nudge, once (the caller checked it was not sent): the stage's
    `escalate_to` role (the office, for 举报 left with tech) is told the filing is stuck."""
    if not stage.escalate_to:
        return []
    recipients = [u for u in lookup.holders(stage.escalate_to) if u != filing.submitter]
    if not recipients:
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
