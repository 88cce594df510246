"""Outgoing WeCom API calls, written in the transaction that caused them (SPEC §7)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, json_field, time_field

OUTBOX_STATUSES = ("pending", "sending", "sent", "dead")


class OutboxMessage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str | None = Field(default=None, unique=True, max_length=255)
    kind: str = Field(default="send", max_length=24)  # send | update_card
    payload: dict = json_field()
    status: str = Field(default="pending", max_length=12, index=True)
    automatic: bool = False  # reminders and digests: held back during quiet hours
    # indexed: whether a card is still on its way (待办, per card) is asked by its task id
    card_task_id: str | None = Field(default=None, max_length=128, index=True)
    attempts: int = 0
    next_attempt_at: datetime = time_field(default_now=True, index=True)
    lease_until: datetime | None = time_field(nullable=True)
    last_error: str | None = None
    # First failure of the current run of failures: a row is retried until 72 h after it.
    failing_since: datetime | None = time_field(nullable=True)
    # A dead row: when admins were told about it (once, bot.outbox.alerts).
    alerted_at: datetime | None = time_field(nullable=True)
    result: dict = json_field()
    created_at: datetime = time_field(default_now=True)
    sent_at: datetime | None = time_field(nullable=True)


class SendCount(SQLModel, table=True):
    """Messages sent to one member per minute: WeCom drops what exceeds 30 a minute or
    1000 an hour per member (doc 90236), so the dispatcher paces by these counts."""

    userid: str = Field(primary_key=True, max_length=64)
    minute: datetime = Field(sa_type=UTCDateTime(), primary_key=True)
    count: int = 0
