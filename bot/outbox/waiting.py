"""Why a queued message has not gone yet: held for quiet hours (until when), paced by WeCom's
per-member limits (until when), waiting to be retried after a failure, or simply due.

`outbox drain`, `reminders run`, the console and the sandbox page say this, so that
"已发送 0 条" never stands alone (`outbox status`, bot.outbox.status, lists the whole outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, case, func, select

from bot.clock import SHANGHAI
from bot.config import in_quiet_hours
from bot.db import read_only
from bot.outbox.status import quiet_until
from bot.render import render_text
from models import OutboxMessage

PACED = "paced:"  # how the dispatcher marks a row put back by the per-member limits


@dataclass(frozen=True)
class Waiting:
    """Counts of undelivered rows by the reason they wait, with the earliest time each ends."""

    due: int = 0  # deliverable now, or being sent
    quiet: int = 0  # automatic messages (reminders, digests, nudges) held for quiet hours
    quiet_until: datetime | None = None  # Asia/Shanghai
    paced: int = 0
    paced_until: datetime | None = None
    retrying: int = 0
    retry_at: datetime | None = None

    @property
    def held(self) -> int:
        """Rows that will not go now, whoever drains."""
        return self.quiet + self.paced + self.retrying


def waiting(engine, now: datetime, quiet_hours: str) -> Waiting:
    """What the outbox holds back at `now`, and why (one aggregate query)."""
    is_due = OutboxMessage.next_attempt_at <= now
    paced = OutboxMessage.last_error.startswith(PACED)
    pending = OutboxMessage.status == "pending"

    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def earliest(condition):
        return func.min(case((condition, OutboxMessage.next_attempt_at), else_=None))

    query = select(
        count(OutboxMessage.status == "sending"),
        count(and_(pending, is_due, OutboxMessage.automatic)),
        count(and_(pending, is_due, ~OutboxMessage.automatic)),
        count(and_(pending, ~is_due, paced)), earliest(and_(pending, ~is_due, paced)),
        count(and_(pending, ~is_due, ~paced)), earliest(and_(pending, ~is_due, ~paced)),
    ).where(OutboxMessage.status.in_(("pending", "sending")))
    with read_only(engine.connect()) as conn:  # looking takes no write lock
        sending, automatic, manual, n_paced, paced_at, n_retry, retry_at = \
            conn.execute(query).one()
        conn.rollback()
    local = now.astimezone(SHANGHAI)
    quiet = automatic if in_quiet_hours(quiet_hours, local) else 0
    return Waiting(
        due=sending + manual + automatic - quiet,
        quiet=quiet, quiet_until=quiet_until(quiet_hours, local) if quiet else None,
        paced=n_paced, paced_until=_local(paced_at),
        retrying=n_retry, retry_at=_local(retry_at),
    )


def describe(state: Waiting, quiet_hours: str, local_now: datetime) -> str:
    """Chinese lines saying what waits and until when ('' when nothing is held back)."""
    if not state.held:
        return ""
    return render_text("outbox/waiting", state=state, quiet_hours=quiet_hours,
                       today=local_now.date(), tomorrow=local_now.date() + timedelta(days=1))


def _local(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite may hand an aggregate back untyped
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(SHANGHAI)
