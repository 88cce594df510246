"""Recording and queueing: insert each reminder's unique key, then turn the reminders this run
inserted into outbox messages (texts, the annual card, nudges)."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from bot import outbox
from bot.notify import card_is_live
from bot.reminders.common import Planned, review_window
from bot.render import render_card
from bot.sql import dialect_insert
from models import Account, Card, Filing, ReminderSent
from workflow.kinds import kind_of, stage_of
from workflow.queries import names_of
from workflow import unanswered
from workflow.review import review_progress
from workflow.uow import UnitOfWork


def record(session, planned: list[Planned], today: date) -> list[Planned]:
    """Insert the keys; return only the reminders this call inserted."""
    if not planned:
        return []
    insert = dialect_insert(session)
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


def deliver(job: UnitOfWork, due: list[Planned], today: date) -> dict:
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
            job.tell([userid], "reminders/annual", automatic=True, accounts=accounts,
                     year=today.year - 1, last_week=last_week, end=end)
    for userid, accounts in per_head.items():
        job.tell([userid], "reminders/escalation", automatic=True, accounts=accounts,
                 year=today.year - 1, end=end)
    zero(job, by_kind["zero"], today.year - 1, end)
    for p in by_kind["digest"] + by_kind["final"]:
        job.tell(p.recipients, "reminders/digest", automatic=True,
                 **review_progress(job.session, p.data["year"]), final=p.data["final"],
                 unanswered=unanswered.names(job.session, p.data["year"]),
                 year=p.data["year"], today=today, end=end)
    for p in by_kind["nudge"]:
        nudge(job, p)
    for p in by_kind["deadline"]:
        deadline(job, p, today)
    for p in by_kind["stalled"]:
        filing = job.session.get(Filing, p.data["filing_id"])
        job.tell(p.recipients, "reminders/stalled", automatic=True, filing=filing,
                 stage=stage_of(filing), nudges=p.data["nudges"],
                 days=(job.as_of.now() - filing.updated_at).days, form=kind_of(filing).form)
    report["messages"] = job.enqueued
    return report


CARD_BUTTONS = 5  # a button_interaction card holds at most 6 buttons (doc 90236)


def annual_card(job: UnitOfWork, userid: str, accounts: list[dict], today: date, last_week: bool,
                end: date) -> None:
    """The annual reminder as a card: one button per account starts its 年检 form."""
    task_id = f"annual-{today:%Y%m%d}-{secrets.token_hex(6)}"
    card = render_card("annual_reminder", task_id=task_id, accounts=accounts, year=today.year - 1,
                       last_week=last_week, end=end, school_names=job.settings.school_names)
    job.session.add(Card(task_id=task_id, stage="reminder", recipients=[userid],
                         created_at=job.clock.now()))
    outbox.enqueue_card(job.session, [userid], card, now=job.clock.now(), automatic=True)
    job.enqueued += 1


def zero(job: UnitOfWork, due: list[Planned], year: int, end: date) -> None:
    """The notice to departments that owe an answer: the heads, one text per round (batched by
    the outbox); each department's contacts, a text naming it and the heads who may answer."""
    heads_by_round = defaultdict(set)
    for p in due:
        heads_by_round[p.seq].update(p.data["heads"])
    for seq, heads in sorted(heads_by_round.items()):
        if heads:
            job.tell(sorted(heads), "reminders/zero", automatic=True, year=year, end=end, seq=seq)
    names = names_of(job.session, [u for p in due for u in p.data["all_heads"]])
    for p in due:
        if p.data["contacts"]:
            job.tell(p.data["contacts"], "reminders/zero_contact", automatic=True,
                     department=p.data["name"], heads=[names[u] for u in p.data["all_heads"]],
                     seq=p.seq, year=year, end=end)


def nudge(job: UnitOfWork, p: Planned) -> None:
    """Remind the approvers; re-send the card when its response code can no longer update."""
    filing = job.session.get(Filing, p.data["filing_id"])
    stage = stage_of(filing)
    card = job.session.scalar(select(Card).where(Card.filing_id == filing.id,
                                                 Card.stage == stage.name,
                                                 Card.closed_text.is_(None))
                              .order_by(Card.id.desc()).limit(1))
    now = job.as_of.now()
    fresh = card_is_live(card, now)
    job.tell(p.recipients, "reminders/nudge", automatic=True, filing=filing, stage=stage, days=(
        now - filing.updated_at).days, resend=not fresh)
    if not fresh:
        job.send_card(filing, stage, p.recipients)


def deadline(job: UnitOfWork, p: Planned, today: date) -> None:
    """A deadline coming up (the administrators) or passed (they, the heads and the office)."""
    case = job.session.get(Filing, p.data["filing_id"])
    account = job.session.get(Account, case.account_id) if case.account_id else None
    days = (case.due_on - today).days
    context = {"case": case, "account": account, "days": days, "form": kind_of(case).form}
    job.tell(p.data["admins"], "reminders/deadline", automatic=True, **context)
    others = [u for u in p.data["escalate"] if u not in p.data["admins"]]
    if others:
        job.tell(others, "reminders/deadline_overdue", automatic=True,
                 names=names_of(job.session, p.data["admins"]), **context)
