"""Reminders that run themselves (SPEC §6): the annual review campaign, the office's weekly
digest and final report, and nudges for approvals left waiting.

`run(app, today)` computes what is due on `today` and queues it. Every reminder is a
ReminderSent row under a unique (kind, target, period, seq) key, inserted with ON CONFLICT DO
NOTHING … RETURNING: only the rows this run inserted get outbox messages, so a second run the
same day, or a second process at the same time, queues nothing twice."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot import outbox
from bot.render import render_text
from bot.roles import holders
from models import (
    Account,
    Card,
    Department,
    Filing,
    Membership,
    ReminderSent,
    User,
    ZeroReport,
)

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


def run(app, today: date, *, dry_run: bool = False, clock=None) -> dict:
    """Queue everything due on `today`; return what was queued (nothing on a dry run).

    `clock` says what "now" is for deciding what is due (`reminders run --today`); the
    messages themselves are queued at the app's real time, so they go out at once."""
    as_of = clock or app.extensions["filingbot.clock"]
    settings = app.config["SETTINGS"]
    with Session(app.extensions["filingbot.engine"]) as session:
        job = JobCtx(session, settings, app.extensions["filingbot.clock"], as_of=as_of)
        planned = [*campaign(session, settings, today), *digests(session, settings, today),
                   *nudges(session, as_of, today)]
        inserted = record(session, planned, today) if not dry_run else planned
        report = deliver(job, inserted, today)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    report["dry_run"] = dry_run
    return report


# --- what is due ---------------------------------------------------------------------------
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
            Account.admin_userids, Account.platform).where(Account.status == "active")).all():
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
    zero = set(session.scalars(select(ZeroReport.department_id).where(ZeroReport.year == year)))
    with_accounts = set(session.scalars(select(Account.department_id)
                                        .where(Account.status == "active")))
    zero_last = dict(session.execute(
        select(ReminderSent.target, func.max(ReminderSent.seq))
        .where(ReminderSent.kind == "zero", ReminderSent.period == period)
        .group_by(ReminderSent.target)).all())
    for dept_id, dept_heads in heads.items():
        if dept_id in with_accounts or dept_id in zero or zero_last.get(str(dept_id), 0) >= 1:
            continue
        planned.append(Planned("zero", str(dept_id), period, 1, dept_heads, {"year": year}))
    return planned


def reviewed_accounts(session, year: int) -> set[int]:
    """Accounts with a 年检 for `year` approved or on its way."""
    rows = session.execute(select(Filing.account_id, Filing.fields).where(
        Filing.kind == "annual", Filing.status.in_(DONE_STATUSES))).all()
    reviewed = {account_id for account_id, fields in rows if fields.get("year") == year}
    reviewed |= set(session.scalars(select(Account.id).where(Account.last_review_year >= year)))
    return reviewed


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
    """催办: a filing waiting at a stage for more than 3 days, every 2 days, 3 times at most."""
    from handlers.approval.routing import approvers
    from handlers.approval.stages import stage_of

    cutoff = clock.now() - NUDGE_AFTER
    planned = []
    waiting = session.scalars(select(Filing).where(Filing.status.in_(WAITING),
                                                   Filing.updated_at < cutoff)).all()
    for filing in waiting:
        stage = stage_of(filing)
        target, period = f"{filing.id}:{stage.name}", f"v{filing.version}"
        rows = session.execute(select(ReminderSent.seq, ReminderSent.sent_on).where(
            ReminderSent.kind == "nudge", ReminderSent.target == target,
            ReminderSent.period == period)).all()
        if len(rows) >= NUDGE_MAX or any(today - sent_on < NUDGE_EVERY for _, sent_on in rows):
            continue
        recipients = approvers(session, filing, stage)
        if recipients:
            planned.append(Planned("nudge", target, period, len(rows) + 1, recipients,
                                   {"filing_id": filing.id}))
    return planned


def drift(session, today: date) -> list[Planned]:
    """Accounts whose administrator left the directory or the account's department: the
    department's heads are asked, once per administrator, to file a 变更."""
    active = active_userids(session)
    members = defaultdict(set)
    for userid, dept_id in session.execute(select(Membership.userid,
                                                  Membership.department_id)).all():
        members[dept_id].add(userid)
    heads = department_heads_map(session)
    names = dict(session.execute(select(User.userid, User.name)).all())
    planned = []
    for account in session.execute(select(Account.id, Account.name, Account.filing_no,
                                          Account.department_id, Account.admin_userids)
                                   .where(Account.status == "active")).all():
        for admin in account.admin_userids or []:
            if admin in active and admin in members[account.department_id]:
                continue
            if heads.get(account.department_id):
                planned.append(Planned("drift", str(account.id), admin, 1,
                                       heads[account.department_id], {
                    "account": {"name": account.name, "filing_no": account.filing_no},
                    "admin": names.get(admin, admin), "left": admin not in active}))
    return planned


def check_drift(app, today: date) -> int:
    """Queue 变更 requests for drifted accounts; returns how many were queued."""
    with Session(app.extensions["filingbot.engine"]) as session:
        job = JobCtx(session, app.config["SETTINGS"], app.extensions["filingbot.clock"])
        due = record(session, drift(session, today), today)
        for p in due:
            job.send(p.recipients, "reminders/drift", **p.data)
        session.commit()
    return len(due)


# --- recording and queueing ---------------------------------------------------------------
def record(session, planned: list[Planned], today: date) -> list[Planned]:
    """Insert the keys; return only the reminders this call inserted."""
    if not planned:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [{"kind": p.kind, "target": p.target, "period": p.period, "seq": p.seq,
             "sent_on": today, "recipients": p.recipients,
             "created_at": datetime.now(timezone.utc)} for p in planned]
    # One compiled statement, executed for many parameter sets ("insertmanyvalues"): far
    # cheaper than compiling a single INSERT with tens of thousands of bound values.
    statement = (insert(ReminderSent)
                 .on_conflict_do_nothing(index_elements=["kind", "target", "period", "seq"])
                 .returning(ReminderSent.kind, ReminderSent.target, ReminderSent.period,
                            ReminderSent.seq))
    inserted = {tuple(r) for r in session.execute(statement, rows).all()}
    return [p for p in planned if (p.kind, p.target, p.period, p.seq) in inserted]


def deliver(job: JobCtx, due: list[Planned], today: date) -> dict:
    """Outbox messages for the reminders due: one message per person, listing their accounts."""
    by_kind = defaultdict(list)
    for p in due:
        by_kind[p.kind].append(p)
    report = {kind: len(items) for kind, items in by_kind.items()}
    start, end = review_window(job.settings, today.year)
    last_week = end - today < timedelta(days=7) and today <= end
    per_admin, per_head = defaultdict(list), defaultdict(list)
    for p in by_kind["annual"]:
        for userid in p.data["admins"]:
            per_admin[userid].append(p.data["account"] | {"seq": p.seq})
        for userid in p.data["heads"]:
            per_head[userid].append(p.data["account"] | {"seq": p.seq})
    for userid, accounts in per_admin.items():
        if len(accounts) <= CARD_BUTTONS:  # a card whose buttons start the 年检 form
            annual_card(job, userid, accounts, today, last_week, end)
        else:
            job.send([userid], "reminders/annual", accounts=accounts, year=today.year - 1,
                     last_week=last_week, end=end)
    for userid, accounts in per_head.items():
        job.send([userid], "reminders/escalation", accounts=accounts, year=today.year - 1, end=end)
    zero_heads = sorted({u for p in by_kind["zero"] for u in p.recipients})
    if zero_heads:  # the same text for everyone: one message, batched by the outbox
        job.send(zero_heads, "reminders/zero", year=today.year - 1, end=end)
    for p in by_kind["digest"] + by_kind["final"]:
        job.send(p.recipients, "reminders/digest", **progress(job.session, p.data["year"]),
                 final=p.data["final"], year=p.data["year"], today=today, end=end)
    for p in by_kind["nudge"]:
        nudge(job, p)
    report["messages"] = job.enqueued
    return report


CARD_BUTTONS = 5  # a button_interaction card holds at most 6 buttons (doc 90236)


def annual_card(job: JobCtx, userid: str, accounts: list[dict], today: date, last_week: bool,
                end: date) -> None:
    """The annual reminder as a card: one button per account starts its 年检 form."""
    import secrets

    from bot.render import render_card
    from models import Card

    task_id = f"annual-{today:%Y%m%d}-{secrets.token_hex(6)}"
    card = render_card("annual_reminder", task_id=task_id, accounts=accounts, year=today.year - 1,
                       last_week=last_week, end=end)
    job.session.add(Card(task_id=task_id, stage="reminder", recipients=[userid],
                         created_at=job.clock.now()))
    outbox.enqueue_card(job.session, [userid], card, now=job.clock.now(), automatic=True)
    job.enqueued += 1


def nudge(job: JobCtx, p: Planned) -> None:
    """Remind the approvers; re-send the card when its response code can no longer update."""
    from handlers.approval.routing import RESPONSE_CODE_LIFE, send_card
    from handlers.approval.stages import stage_of

    filing = job.session.get(Filing, p.data["filing_id"])
    stage = stage_of(filing)
    card = job.session.scalar(select(Card).where(Card.filing_id == filing.id,
                                                 Card.stage == stage.name,
                                                 Card.closed_text.is_(None))
                              .order_by(Card.id.desc()).limit(1))
    now = (job.as_of or job.clock).now()
    fresh = card is not None and card.response_code_at is not None \
        and now - card.response_code_at < RESPONSE_CODE_LIFE
    job.send(p.recipients, "reminders/nudge", filing=filing, stage=stage, days=(
        now - filing.updated_at).days, resend=not fresh)
    if not fresh:
        send_card(job, filing, stage, p.recipients)


def progress(session, year: int) -> dict:
    """Completion per department: done / pending / missing, and the accounts still missing."""
    departments = dict(session.execute(select(Department.id, Department.name)).all())
    statuses = defaultdict(dict)
    for account_id, fields, status in session.execute(select(
            Filing.account_id, Filing.fields, Filing.status).where(Filing.kind == "annual")).all():
        if fields.get("year") == year and status in DONE_STATUSES:
            statuses[account_id]["done" if status in ("approved", "done") else "pending"] = True
    rows = defaultdict(lambda: {"done": 0, "pending": 0, "missing": 0})
    missing = []
    for account in session.execute(select(Account.id, Account.name, Account.filing_no,
                                          Account.department_id, Account.last_review_year)
                                   .where(Account.status == "active")).all():
        state = statuses.get(account.id, {})
        if state.get("done") or (account.last_review_year or 0) >= year:
            rows[account.department_id]["done"] += 1
        elif state.get("pending"):
            rows[account.department_id]["pending"] += 1
        else:
            rows[account.department_id]["missing"] += 1
            missing.append(account)
    zero = set(session.scalars(select(ZeroReport.department_id).where(ZeroReport.year == year)))
    table = sorted(((departments.get(d, str(d)), r) for d, r in rows.items()),
                   key=lambda item: (-item[1]["missing"], item[0]))
    return {"table": table, "missing": missing,
            "zero": sorted(departments.get(d, str(d)) for d in zero),
            "totals": {k: sum(r[k] for _, r in table) for k in ("done", "pending", "missing")}}


def due_time(settings) -> time:
    return time(*settings.reminder_time)


NAMES = {"annual": "年检提醒", "zero": "零报告通知", "digest": "周报", "final": "最终报告",
         "nudge": "催办"}


def describe(report: dict) -> str:
    """One line for the CLI: what was queued (or would be, on a dry run)."""
    parts = [f"{NAMES.get(k, k)} {v} 项" for k, v in report.items() if k in NAMES and v]
    head = "（试运行，未发送）" if report.get("dry_run") else ""
    return (head + ("；".join(parts) or "今天没有需要发送的提醒")
            + f"；消息 {report.get('messages', 0)} 条")
