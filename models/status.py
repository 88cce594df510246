"""The statuses of filings and accounts: one vocabulary, read by every layer (SPEC §3, §5)."""

from __future__ import annotations

from enum import StrEnum


class FilingStatus(StrEnum):
    """Where a filing stands; a waiting status names the stage that decides next."""

    AWAITING_DEPT = "awaiting_dept"
    AWAITING_OFFICE = "awaiting_office"
    AWAITING_TECH = "awaiting_tech"
    AWAITING_BUILD = "awaiting_build"
    AWAITING_CLOSURE = "awaiting_closure"  # 注销 approved: the account's keepers confirm it
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"
    DONE = "done"
    ORDERED = "ordered"  # a closure ordered by a failed 年检, done when the account is closed
    DUPLICATE = "duplicate"  # closed at approval: another filing or account holds the same ID

    @property
    def waiting(self) -> bool:
        """Whether somebody has to decide (the filing waits at a stage)."""
        return self.value.startswith("awaiting_")

    @classmethod
    def waiting_ones(cls) -> tuple[FilingStatus, ...]:
        """Every waiting status, for SQL `IN (…)` filters."""
        return tuple(status for status in cls if status.waiting)


class AccountStatus(StrEnum):
    """An account in the registry: applied and not built, active, being closed (注销 approved,
    not yet confirmed closed on its platform), closed, or ordered closed."""

    PENDING = "pending"
    ACTIVE = "active"
    CLOSING = "closing"
    CLOSED = "closed"
    ORDERED_CLOSED = "ordered_closed"
