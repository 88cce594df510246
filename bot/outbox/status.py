"""What the outbox holds (`outbox status`) and sending again what failed (`outbox retry`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlmodel import Session

from bot.clock import SHANGHAI
from bot.config import in_quiet_hours
from bot.outbox.alerts import KIND_LABELS, clean_error, kind_of
from models import OutboxMessage

RECENT_DEAD = 10


def outbox_status(engine, now: datetime, quiet: str) -> dict:
    """Counts of queued, held (quiet hours), retrying, sending, dead and sent rows, and the
    latest dead rows with their errors (never their payloads: they hold response codes)."""
    local_now = now.astimezone(SHANGHAI)
    held_until = quiet_until(quiet, local_now)
    counts = {"queued": 0, "held": 0, "retrying": 0, "sending": 0, "dead": 0, "sent": 0}
    with Session(engine) as session:
        groups = session.execute(
            select(OutboxMessage.status, OutboxMessage.automatic,
                   OutboxMessage.failing_since.is_not(None), func.count())
            .group_by(OutboxMessage.status, OutboxMessage.automatic,
                      OutboxMessage.failing_since.is_not(None))).all()
        for status, automatic, failing, count in groups:
            if status == "pending":
                key = "retrying" if failing else "held" if automatic and held_until else "queued"
            else:
                key = status if status in counts else "queued"
            counts[key] += count
        failing_since, next_retry = session.execute(
            select(func.min(OutboxMessage.failing_since), func.min(OutboxMessage.next_attempt_at))
            .where(OutboxMessage.status == "pending", OutboxMessage.failing_since.is_not(None))
        ).one()
        dead = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "dead")
                               .order_by(OutboxMessage.id.desc()).limit(RECENT_DEAD)).all()
        recent_dead = [{
            "id": row.id, "kind": KIND_LABELS.get(kind_of(row), "消息"),
            "recipients": len(row.payload.get("touser") or row.payload.get("userids") or [])
            or "全部",
            "created": row.created_at.astimezone(SHANGHAI), "attempts": row.attempts,
            "error": clean_error(row.last_error),
        } for row in dead]
        session.rollback()
    return {
        **counts, "now": local_now, "held_until": held_until if counts["held"] else None,
        "failing_since": failing_since and failing_since.astimezone(SHANGHAI),
        "next_retry": next_retry and next_retry.astimezone(SHANGHAI),
        "recent_dead": recent_dead,
    }


def requeue(engine, now: datetime, *, dead: bool = False) -> dict:
    """Make rows backing off after failures due now; with `dead`, also give dead rows a new
    72 hours (and a new alert if they die again). Returns how many of each."""
    with Session(engine) as session:
        brought = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending", or_(
                OutboxMessage.failing_since.is_not(None), OutboxMessage.attempts > 0))
            .values(next_attempt_at=now)).rowcount
        revived = 0
        if dead:
            revived = session.execute(
                update(OutboxMessage).where(OutboxMessage.status == "dead")
                .values(status="pending", next_attempt_at=now, lease_until=None,
                        failing_since=None, alerted_at=None)).rowcount
        session.commit()
    return {"brought": brought, "revived": revived}


def quiet_until(quiet: str, local_now: datetime) -> datetime | None:
    """When the quiet hours under way end (Asia/Shanghai), or None outside them."""
    if not quiet or not in_quiet_hours(quiet, local_now):
        return None
    hour, minute = (int(part) for part in quiet.split("-")[1].split(":"))
    end = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return end if end > local_now else end + timedelta(days=1)
