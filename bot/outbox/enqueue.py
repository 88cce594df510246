"""Queueing outgoing messages inside the business transaction (transactional outbox, SPEC §7)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlmodel import Session

from bot.sql import insert_many
from models import OutboxMessage

BATCH_LIMIT = 1000  # touser holds at most 1000 userids (doc 90236)


def enqueue_text(session: Session, userids: list[str], content: str, *, now: datetime,
                 automatic: bool = False, dedup_key: str | None = None,
                 not_before: datetime | None = None) -> list[OutboxMessage]:
    """Queue a text message to `userids`, one row per 1000 recipients; held until
    `not_before` when given (release it earlier with `release_text`)."""
    payload = {"msgtype": "text", "text": {"content": content}}
    return _enqueue(session, "send", userids, payload, now=now, automatic=automatic,
                    dedup_key=dedup_key, due=not_before)


def release_text(session: Session, dedup_key: str, content: str, *, now: datetime) -> int:
    """Send a held text message now with new `content`; returns how many rows were released
    (0 when it already went out, or never was)."""
    released = 0
    for row in session.scalars(select(OutboxMessage).where(
            or_(OutboxMessage.dedup_key == dedup_key,
                OutboxMessage.dedup_key.like(f"{dedup_key}#%")),
            OutboxMessage.status == "pending")).all():
        # Compare-and-set: a dispatcher that already claimed the row keeps it.
        released += session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row.id,
                                        OutboxMessage.status == "pending")
            .values(payload={**row.payload, "text": {"content": content}}, next_attempt_at=now)
            .execution_options(synchronize_session=False)).rowcount
    return released


def enqueue_card(session: Session, userids: list[str], card: dict, *, now: datetime,
                 automatic: bool = False, dedup_key: str | None = None) -> list[OutboxMessage]:
    """Queue a template_card; the response code WeCom returns is stored on its Card row."""
    payload = {"msgtype": "template_card", "template_card": card}
    rows = _enqueue(session, "send", userids, payload, now=now, automatic=automatic,
                    dedup_key=dedup_key)
    for row in rows:
        row.card_task_id = card.get("task_id")
    return rows


def enqueue_card_update(session: Session, response_code: str, *, now: datetime,
                        replace_name: str | None = None, card: dict | None = None,
                        userids: list[str] | None = None, task_id: str | None = None,
                        dedup_key: str | None = None) -> OutboxMessage:
    """Queue an update_template_card call (all recipients unless `userids` is given)."""
    payload = {"response_code": response_code, "userids": userids,
               "replace_name": replace_name, "template_card": card}
    row = OutboxMessage(kind="update_card", payload=payload, next_attempt_at=now,
                        created_at=now, dedup_key=dedup_key, card_task_id=task_id)
    session.add(row)
    return row


def _enqueue(session, kind, userids, payload, *, now, automatic, dedup_key, due=None):
    unique = list(dict.fromkeys(u for u in userids if u))
    rows = []
    for index in range(0, len(unique), BATCH_LIMIT):
        batch = unique[index:index + BATCH_LIMIT]
        key = dedup_key if index == 0 or dedup_key is None else f"{dedup_key}#{index}"
        row = OutboxMessage(kind=kind, payload={**payload, "touser": batch}, automatic=automatic,
                            next_attempt_at=due or now, created_at=now, dedup_key=key)
        session.add(row)
        rows.append(row)
    return rows


def enqueue_many(session: Session, messages: list[tuple[list[str], dict]], *, now: datetime,
                 automatic: bool = False) -> int:
    """Queue many `send` messages at once, each (userids, payload without touser): one
    INSERT of plain rows (bot.sql.insert_many), not an ORM object each (the daily campaign
    queues thousands; building a table model costs ~0.3 ms). The same rows as
    enqueue_text/enqueue_card add (without a dedup key); returns how many were inserted."""
    payloads, task_ids = [], []
    for userids, payload in messages:
        unique = list(dict.fromkeys(u for u in userids if u))
        for index in range(0, len(unique), BATCH_LIMIT):
            payloads.append({**payload, "touser": unique[index:index + BATCH_LIMIT]})
            task_ids.append(payload.get("template_card", {}).get("task_id"))
    if payloads:
        session.connection().execute(*insert_many(
            session, OutboxMessage.__table__, {"payload": payloads, "card_task_id": task_ids},
            {"kind": "send", "status": "pending", "automatic": automatic, "attempts": 0,
             "next_attempt_at": now, "result": {}, "created_at": now}))
    return len(payloads)
