"""Filings (登记, 申请, 变更, 年检, 注销, 举报) and the decisions taken on them."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from models.base import json_field, status_field, time_field
from models.status import FilingStatus


class Filing(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    submitter: str = Field(max_length=64, index=True)
    fields: dict = json_field()
    status: FilingStatus = status_field(FilingStatus, 24)
    version: int = 1
    # the day the department must act by: a 年检 sent back for 限期整改, an ordered closure
    due_on: date | None = None
    created_at: datetime = time_field(default_now=True)
    updated_at: datetime = time_field(default_now=True)


class Decision(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    filing_id: int = Field(foreign_key="filing.id", index=True)
    stage: str = Field(max_length=16)
    outcome: str = Field(max_length=24)
    decider: str = Field(max_length=64)
    reason: str = ""
    round: int = 1  # a returned-and-resubmitted filing is decided again in a later round
    decided_at: datetime = time_field(default_now=True)
