"""Shared column helpers: timezone-aware UTC timestamps and JSON columns."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes; SQLite returns naive ones, which are UTC by construction."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        # SQLite keeps the wall time and drops the offset: store it in UTC.
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def time_field(*, nullable: bool = False, index: bool = False, default_now: bool = False):
    """A UTC timestamp column."""
    kwargs = {"default_factory": utcnow} if default_now else {"default": None}
    return Field(sa_type=UTCDateTime(), nullable=nullable, index=index, **kwargs)


def json_field(default_factory=dict):
    """A JSON column (TEXT on SQLite, JSON on PostgreSQL)."""
    return Field(default_factory=default_factory, sa_type=JSON, nullable=False)


class EnumText(TypeDecorator):
    """A StrEnum stored as plain VARCHAR: rows read back as enum members (no database enum
    type, so adding a status needs no migration)."""

    impl = String
    cache_ok = True

    def __init__(self, enum_cls, length: int):
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value, dialect):
        return None if value is None else self.enum_cls(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum_cls(value)


def status_field(enum_cls, length: int, **kwargs):
    """A status column holding members of `enum_cls`."""
    return Field(sa_type=EnumText(enum_cls, length), nullable=False, index=True, **kwargs)
