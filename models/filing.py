"""Filings (登记, 申请, 变更, 年检, 注销, 举报) and the decisions taken on them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, event
from sqlmodel import Field, SQLModel

from models.base import json_field, status_field, time_field
from models.status import FilingStatus


class Filing(SQLModel, table=True):
    """A filing; `fields` holds its form's answers. `year`, `platform` and `external_id` copy
    the answers queries filter on (filing_columns), so SQL can filter on indexed columns."""

    __table_args__ = (
        Index("ix_filing_kind_year", "kind", "year"),
        Index("ix_filing_platform_external_id", "platform", "external_id"),
        # what waits at a stage (待办, the queue): kind and status together (issue #16)
        Index("ix_filing_status_kind", "status", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    submitter: str = Field(max_length=64, index=True)
    fields: dict = json_field()
    status: FilingStatus = status_field(FilingStatus, 24)
    version: int = 1
    year: int | None = None  # a 年检's year (fields["year"])
    platform: str | None = Field(default=None, max_length=8)  # fields["platform"]
    external_id: str | None = Field(default=None, max_length=200)  # fields["external_id"]
    # the day the department must act by: a 年检 sent back for 限期整改, an ordered closure
    due_on: date | None = None
    created_at: datetime = time_field(default_now=True)
    updated_at: datetime = time_field(default_now=True)


def filing_columns(fields: dict | None) -> dict:
    """The columns copied from a filing's answers: {"year", "platform", "external_id"}.

    They are the filing's own answers, verbatim: a 登记/申请's platform and ID, a 年检's year.
    A 变更's requested new_platform/new_external_id are not copied: they name what the account
    may become, and the account row holds its ID once approved. A bulk `insert()` (which
    skips the ORM events below) passes these columns itself."""
    fields = fields or {}
    year, platform, external_id = (fields.get(k) for k in ("year", "platform", "external_id"))
    return {"year": year if isinstance(year, int) and not isinstance(year, bool) else None,
            "platform": platform if isinstance(platform, str) and len(platform) <= 8 else None,
            "external_id": external_id if isinstance(external_id, str)
            and len(external_id) <= 200 else None}


@event.listens_for(Filing, "before_insert")
@event.listens_for(Filing, "before_update")
def _copy_filing_columns(mapper, connection, filing: Filing) -> None:
    """Keep the filter columns in step with `fields` whenever the ORM writes a filing."""
    for name, value in filing_columns(filing.fields).items():
        if getattr(filing, name) != value:
            setattr(filing, name, value)


class Decision(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    filing_id: int = Field(foreign_key="filing.id", index=True)
    stage: str = Field(max_length=16)
    outcome: str = Field(max_length=24)
    decider: str = Field(max_length=64)
    reason: str = ""
    round: int = 1  # a returned-and-resubmitted filing is decided again in a later round
    decided_at: datetime = time_field(default_now=True)
