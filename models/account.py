"""Official accounts in the registry (SPEC §3: account status and filing numbers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, UniqueConstraint

from models.base import json_field, status_field, time_field
from models.status import AccountStatus


class Account(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        # the review's counts per department read this index alone, not the rows (issue #16)
        Index("ix_account_status_department_review", "status", "department_id",
              "last_review_year"),
    )
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=8)  # platform code: WX, WB, …
    name: str = Field(max_length=100)
    external_id: str | None = Field(default=None, max_length=200)
    department_id: int = Field(foreign_key="department.id", index=True)
    status: AccountStatus = status_field(AccountStatus, 16, default=AccountStatus.PENDING)
    filing_no: str | None = Field(default=None, unique=True, max_length=40)
    details: dict = json_field()  # 主页链接, 用途, 开通时间, 负责人, 管理员 …
    admin_userids: list = json_field(list)
    last_review_year: int | None = None
    version: int = 1
    created_at: datetime = time_field(default_now=True)
    updated_at: datetime = time_field(default_now=True)
