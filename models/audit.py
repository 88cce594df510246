"""Append-only audit log: who did what to which filing or account, before → after."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import json_field, time_field


class AuditLog(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = time_field(default_now=True, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=32)
    filing_id: int | None = Field(default=None, index=True)
    account_id: int | None = Field(default=None, index=True)
    before: dict = json_field()
    after: dict = json_field()
