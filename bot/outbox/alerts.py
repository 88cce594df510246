"""Telling the `admin` role holders about messages the outbox gave up on.

One alert per incident, delivered when WeCom answers again: the alert is itself an outbox row.
While it waits (WeCom still down, or quiet hours), rows that die meanwhile are folded into its
text instead of queueing alert after alert; a row is in exactly one alert (alerted_at)."""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.clock import SHANGHAI
from bot.db import read_only
from bot.outbox.enqueue import enqueue_text
from bot.outbox.errors import SECRET_PARAMS
from bot.render import render_text
from models import OutboxMessage, RoleGrant

log = logging.getLogger(__name__)
ALERT_KEY = "outbox-alert:"  # dedup_key prefix of alert rows
KIND_LABELS = {"text": "文本消息", "markdown": "文本消息", "template_card": "审批/提醒卡片",
               "update_card": "卡片状态更新"}


def is_alert(row: OutboxMessage) -> bool:
    """Whether `row` is an alert (its own death is not alerted: no alert about alerts)."""
    return (row.dedup_key or "").startswith(ALERT_KEY)


def report_dead(engine, now: datetime) -> int:
    """Fold rows that died since the last alert into the waiting alert, or queue a new one.

    Returns how many rows were newly reported. Cheap when nothing died: one read-only count."""
    with read_only(engine.connect()) as conn:  # looking takes no SQLite write lock
        unreported = conn.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "dead", OutboxMessage.alerted_at.is_(None)))
        conn.rollback()
    if not unreported:
        return 0
    with Session(engine) as session:
        newest = session.scalar(select(func.max(OutboxMessage.id)).where(
            OutboxMessage.status == "dead", OutboxMessage.alerted_at.is_(None)))
        marked = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "dead", OutboxMessage.alerted_at.is_(None),
                   OutboxMessage.id <= newest)
            .values(alerted_at=now)).rowcount
        if not marked:  # another dispatcher reported them first (compare-and-set)
            session.rollback()
            return 0
        waiting = session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedup_key.like(ALERT_KEY + "%"),
                                        OutboxMessage.status == "pending")
            .order_by(OutboxMessage.id.desc()).limit(1)).first()
        since = waiting.created_at if waiting else now
        dead = session.scalars(select(OutboxMessage).where(
            OutboxMessage.status == "dead", OutboxMessage.alerted_at >= since)).all()
        content = render_text("outbox/dead_alert", **summary(dead))
        if waiting is not None:
            # Still pending (compare-and-set): its text grows; if it is being sent right now,
            # the rows go into a new alert instead.
            grown = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == waiting.id, OutboxMessage.status == "pending")
                .values(payload={**waiting.payload, "text": {"content": content}})).rowcount
            if grown:
                session.commit()
                return marked
            content = render_text("outbox/dead_alert", **summary(
                [row for row in dead if row.alerted_at == now]))
        admins = sorted(set(session.scalars(select(RoleGrant.userid)
                                            .where(RoleGrant.role == "admin"))))
        if admins:
            enqueue_text(session, admins, content, now=now, automatic=True,
                         dedup_key=ALERT_KEY + secrets.token_hex(8))  # CAS above: no twin
        else:
            log.warning("%s outbox rows are dead and no one holds the admin role to be told; "
                        "see `flask --app bot outbox status`", marked)
        try:
            session.commit()
        except IntegrityError:  # another dispatcher reported the same rows at the same moment
            session.rollback()
            return 0
    return marked


def summary(rows: list[OutboxMessage]) -> dict:
    """What an alert says about dead rows: counts by kind, when, the commonest errors."""
    kinds = Counter(KIND_LABELS.get(kind_of(row), "消息") for row in rows)
    errors = Counter(clean_error(row.last_error) for row in rows)
    created = sorted(row.created_at for row in rows)
    return {
        "count": len(rows),
        "kinds": sorted(kinds.items(), key=lambda item: -item[1]),
        "errors": errors.most_common(3),
        "first": created[0].astimezone(SHANGHAI) if created else None,
        "last": created[-1].astimezone(SHANGHAI) if created else None,
    }


def kind_of(row: OutboxMessage) -> str:
    """'text', 'markdown', 'template_card' or 'update_card'."""
    return "update_card" if row.kind == "update_card" else str(row.payload.get("msgtype"))


def clean_error(error: str | None) -> str:
    """A stored error, short, with any token or secret in it masked (they are already masked
    when stored; this keeps it so for rows written by older versions)."""
    return SECRET_PARAMS.sub(r"\1=***", (error or "未知错误").splitlines()[0])[:120]
