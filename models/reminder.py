"""Reminders already queued, keyed so that a rerun (or a second process) queues nothing twice:
(kind, target, period, seq) is unique, e.g. ("annual", account 17, "2025", 2)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models.base import json_field, time_field


class ReminderSent(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("kind", "target", "period", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    # annual | nudge | stalled | deadline | digest | final | drift | zero
    kind: str = Field(max_length=16)
    target: str = Field(max_length=64)  # account id, filing id:stage, department id, "office"
    period: str = Field(max_length=32)  # review year, ISO week, round…
    seq: int = 1
    # read only with the unique key's columns (the last reminder of a target): no index of
    # its own, which every campaign insert would maintain (migration 0012)
    sent_on: date
    recipients: list = json_field(list)
    created_at: datetime = time_field(default_now=True)


class ZeroReport(SQLModel, table=True):
    """零报告: a department with no accounts answered the year's review campaign."""

    department_id: int = Field(primary_key=True)
    year: int = Field(primary_key=True)
    userid: str = Field(max_length=64)
    created_at: datetime = time_field(default_now=True)
