"""Template cards the bot sent.

task_id ↔ filing and stage, and the response codes to update them.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import json_field, time_field


class Card(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(unique=True, max_length=128)
    filing_id: int | None = Field(default=None, foreign_key="filing.id", index=True)
    stage: str = Field(default="", max_length=16)
    recipients: list = json_field(list)
    response_code: str | None = Field(default=None, max_length=256)
    response_code_at: datetime | None = time_field(nullable=True)
    closed_text: str | None = None  # what the buttons were replaced with, once decided
    created_at: datetime = time_field(default_now=True)
