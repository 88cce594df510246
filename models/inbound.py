"""Inbound callbacks already handled, keyed for deduplication of WeCom's retries."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import time_field


class InboundEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(unique=True, max_length=255)
    userid: str = Field(default="", max_length=64)
    reply: str | None = None  # plaintext passive reply XML, replayed to a retry
    # Not indexed: written on every message, read once a day by outbox.prune (a scan).
    received_at: datetime = time_field(default_now=True)
