"""Key/value rows with an expiry, backing wechatpy's SessionStorage (the shared access token)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import time_field

QUESTION_PREFIX = "await:"  # KeyValue key prefix of a question the bot asked a member


class KeyValue(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=255)
    value: str
    expires_at: datetime | None = time_field(nullable=True)
