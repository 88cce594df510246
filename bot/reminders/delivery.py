"""Recording and queueing: insert each reminder's unique key, then turn the reminders this run
inserted into outbox messages (texts, the annual card, nudges)."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

from sqlalchemy import bindparam, select

from bot import outbox
from bot.notify import card_is_live
from bot.reminders.common import Planned, review_window
from bot.reminders.plan import NUDGE_BATCH
from bot.render import render_card, render_text
from bot.sql import insert_many
from models import Account, Card, Department, Filing, ReminderSent, User
from workflow import unanswered
from workflow.kinds import kind_of, stage_of
from workflow.queries import names_of
from workflow.review import review_progress
from workflow.uow import UnitOfWork


def record(session, planned: list[Planned], today: date) -> list[Planned]:
    """Insert the keys (ON CONFLICT DO NOTHING: a concurrent run's keys stay theirs); return
    only the reminders this call inserted."""
    if not planned:
        return []
    table = ReminderSent.__table__
    statement, params = insert_many(session, table, {
        "kind": [p.kind for p in planned], "target": [p.target for p in planned],
        "period": [p.period for p in planned], "seq": [p.seq for p in planned],
        "recipients": [p.recipients for p in planned]},
        {"sent_on": today, "created_at": datetime.now(timezone.utc)})
    statement = (statement.on_conflict_do_nothing(index_elements=KEY)
                 .returning(*(table.c[k] for k in KEY)))
    inserted = {tuple(r) for r in session.connection().execute(statement, params).all()}
    return [p for p in planned if (p.kind, p.target, p.period, p.seq) in inserted]


KEY = ("kind", "target", "period", "seq")


class Reminded(NamedTuple):
    """An account in a person's annual reminder (templates read a.name, a.seq…)."""

    id: int
    name: str
    filing_no: str | None
    seq: int


class Annual:
    """The annual reminders a run inserted, gathered per person as the campaign's chunks are
    recorded, so that each administrator (and head) gets one message listing all their
    accounts, whichever departments and chunks they are in. Holds an (account id, seq) pair
    per account reminded, shared by its admins' and heads' lists; the names are read again
    when the messages are rendered (annual_messages)."""

    def __init__(self):
        self.per_admin: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.per_head: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.count = 0

    def add(self, due: list[Planned]) -> list[Planned]:
        """Take the annual reminders of `due`; return the others."""
        others = []
        for p in due:
            if p.kind != "annual":
                others.append(p)
                continue
            item = (p.data["account_id"], p.seq)
            for userid in p.data["admins"]:
                self.per_admin[userid].append(item)
            for userid in p.data["heads"]:
                self.per_head[userid].append(item)
            self.count += 1
        return others


def deliver(job: UnitOfWork, due: list[Planned], today: date,
            annual: Annual | None = None) -> dict:
    """Outbox messages for the reminders due: one message per person, listing their accounts
    (the annual ones gathered in `annual` as the campaign was recorded, and those in `due`)."""
    annual = annual or Annual()
    by_kind = defaultdict(list)
    for p in annual.add(due):
        by_kind[p.kind].append(p)
    report = {"annual": annual.count} if annual.count else {}  # first, as planned
    report |= {kind: len(items) for kind, items in by_kind.items()}
    start, end = review_window(job.settings, today.year)
    last_week = end - today < timedelta(days=7) and today <= end
    annual_messages(job, annual, today, last_week, end)
    zero(job, by_kind["zero"], today.year - 1, end)
    for p in by_kind["digest"] + by_kind["final"]:
        job.tell(p.recipients, "reminders/digest", automatic=True,
                 **review_progress(job.session, p.data["year"], shown=DIGEST_SHOWN),
                 final=p.data["final"],
                 unanswered=unanswered.names(job.session, p.data["year"]),
                 year=p.data["year"], today=today, end=end)
    nudges = by_kind["nudge"]
    for start in range(0, len(nudges), NUDGE_BATCH):
        nudge_batch(job, nudges[start:start + NUDGE_BATCH])
    for p in by_kind["deadline"]:
        deadline(job, p, today)
    for p in by_kind["stalled"]:
        filing = job.session.get(Filing, p.data["filing_id"])
        job.tell(p.recipients, "reminders/stalled", automatic=True, filing=filing,
                 stage=stage_of(filing), nudges=p.data["nudges"],
                 days=(job.as_of.now() - filing.updated_at).days, form=kind_of(filing).form)
    report["messages"] = job.enqueued
    return report


QUEUE_BATCH = 1_000  # people whose annual messages are rendered, then inserted, at a time
IN_BATCH = 5_000  # ids in one IN (…) list


def annual_messages(job: UnitOfWork, annual: Annual, today: date, last_week: bool,
                    end: date) -> None:
    """One message per administrator (a card when their accounts fit its buttons, else a
    text) and per head escalated to, QUEUE_BATCH people at a time: their accounts' names read
    in one query, the messages rendered and inserted as plain rows (outbox.enqueue_many) — the
    same rows job.tell and a Card per card would add one by one."""
    now = job.clock.now()
    common = {"year": today.year - 1, "end": end}
    people = [*(("admin", u, a) for u, a in annual.per_admin.items()),
              *(("head", u, a) for u, a in annual.per_head.items())]
    for start in range(0, len(people), QUEUE_BATCH):
        batch = people[start:start + QUEUE_BATCH]
        names = account_names(job.session, {i for _, _, items in batch for i, _ in items})
        messages, cards = [], []
        for role, userid, items in batch:
            accounts = [Reminded(i, *names[i], seq) for i, seq in items]
            if role == "head":
                messages.append(([userid], text("reminders/escalation", accounts=accounts,
                                                **common)))
            elif len(accounts) <= CARD_BUTTONS:  # a card whose buttons start the 年检 form
                card = annual_card(job, accounts, today, last_week, end)
                cards.append({"task_id": card["task_id"], "recipients": [userid]})
                messages.append(([userid], {"msgtype": "template_card", "template_card": card}))
            else:
                messages.append(([userid], text("reminders/annual", accounts=accounts,
                                                last_week=last_week, **common)))
        if cards:
            job.session.connection().execute(*insert_many(job.session, Card.__table__, {
                "task_id": [c["task_id"] for c in cards],
                "recipients": [c["recipients"] for c in cards]},
                {"stage": "reminder", "created_at": now}))
        job.enqueued += outbox.enqueue_many(job.session, messages, now=now, automatic=True)


def account_names(session, ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """{account id: (name, filing_no)}, read IN_BATCH ids at a time. The ids are written
    into the statement as numbers (literal_execute), not bound one placeholder each, which
    psycopg would parse out of the SQL again (0.7 s of the campaign's 87,000 ids)."""
    ids, names = sorted(ids), {}
    for start in range(0, len(ids), IN_BATCH):
        page = bindparam("ids", ids[start:start + IN_BATCH], expanding=True,
                         literal_execute=True)
        names.update((row.id, (row.name, row.filing_no)) for row in session.execute(
            select(Account.id, Account.name, Account.filing_no).where(Account.id.in_(page))))
    return names


def text(template: str, **context) -> dict:
    return {"msgtype": "text", "text": {"content": render_text(template, **context)}}


DIGEST_SHOWN = 20  # missing accounts a digest lists; the rest are counted ("……共 N 个")
CARD_BUTTONS = 5  # a button_interaction card holds at most 6 buttons (doc 90236)


def annual_card(job: UnitOfWork, accounts: list[Reminded], today: date, last_week: bool,
                end: date) -> dict:
    """The annual reminder as a card: one button per account starts its 年检 form."""
    task_id = f"annual-{today:%Y%m%d}-{secrets.token_hex(6)}"
    return render_card("annual_reminder", task_id=task_id, accounts=accounts,
                       year=today.year - 1, last_week=last_week, end=end,
                       school_names=job.settings.school_names)


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


def open_cards(session, filings: list[Filing]) -> tuple[dict[tuple[int, str], Card], list]:
    """The latest card still open of each filing's current stage (one query); and the
    filings' submitters and departments, read along: while the caller holds them, the
    session's identity map answers the new cards' `session.get` without a query."""
    latest = {}
    for card in session.scalars(select(Card).where(
            Card.filing_id.in_([f.id for f in filings]), Card.closed_text.is_(None))
            .order_by(Card.id)):
        latest[card.filing_id, card.stage] = card  # the highest id wins
    keep = [*session.scalars(select(User).where(
                User.userid.in_({f.submitter for f in filings}))),
            *session.scalars(select(Department).where(
                Department.id.in_({f.department_id for f in filings if f.department_id})))]
    current = {(f.id, stage_of(f).name) for f in filings}
    return {key: card for key, card in latest.items() if key in current}, keep


def nudge_batch(job: UnitOfWork, batch: list[Planned]) -> None:
    """Remind the approvers of a batch of filings; re-send the card of those whose response
    code can no longer update. The texts go in as plain rows (outbox.enqueue_many), before
    the batch's cards (so a text announcing a card is queued ahead of it); the batch is
    flushed, so the session keeps no pending rows."""
    cards, _read_along = open_cards(job.session, [p.data["filing"] for p in batch])
    now, texts, resend = job.as_of.now(), [], []
    for p in batch:
        filing = p.data["filing"]
        stage = stage_of(filing)
        fresh = card_is_live(cards.get((filing.id, stage.name)), now)
        texts.append((p.recipients, text("reminders/nudge", filing=filing, stage=stage,
                                         days=(now - filing.updated_at).days,
                                         resend=not fresh)))
        if not fresh:
            resend.append((filing, stage, p.recipients))
    job.enqueued += outbox.enqueue_many(job.session, texts, now=job.clock.now(),
                                        automatic=True)
    job.send_cards(resend)
    job.session.flush()


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
