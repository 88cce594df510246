"""Removing rows that can no longer matter."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session

from models import InboundEvent, OutboxMessage, SendCount

KEEP_INBOUND = timedelta(days=7)  # WeCom retries within seconds; a week is plenty
KEEP_SENT = timedelta(days=30)


def prune(engine, now: datetime) -> dict:
    """Delete dedup keys, send counts and delivered messages that can no longer matter."""
    with Session(engine) as session:
        counts = {
            "inbound": session.execute(delete(InboundEvent).where(
                InboundEvent.received_at < now - KEEP_INBOUND)).rowcount,
            "send_counts": session.execute(delete(SendCount).where(
                SendCount.minute < now - timedelta(hours=2))).rowcount,
            "sent": session.execute(delete(OutboxMessage).where(
                OutboxMessage.status == "sent", OutboxMessage.sent_at < now - KEEP_SENT)).rowcount,
        }
        session.commit()
    return counts
