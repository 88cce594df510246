"""A user's form in progress; survives restarts and is shared by all workers (SPEC §4)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import json_field, time_field


class Conversation(SQLModel, table=True):
    userid: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)
    step: str = Field(default="", max_length=32)
    answers: dict = json_field()  # field values, by field name
    dialogue: dict = json_field()  # handlers.forms.state.Dialogue: where the dialogue stands
    version: int = 1
    updated_at: datetime = time_field(default_now=True)
