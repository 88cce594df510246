"""The WeCom directory as cached by the bot, and the roles granted on top of it (SPEC §2)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models.base import time_field, utcnow

ROLES = ("staff", "dept_head", "office", "publicity", "tech", "admin")
ALL_DEPARTMENTS = 0  # department_id of a grant that is not tied to one department


class Department(SQLModel, table=True):
    id: int = Field(primary_key=True)  # WeCom department id
    name: str
    parent_id: int | None = None
    sort_order: int = 0
    synced_at: datetime = time_field(default_now=True)


class User(SQLModel, table=True):
    userid: str = Field(primary_key=True, max_length=64)
    name: str
    position: str = ""
    active: bool = True  # False once the user left the directory
    looked_up: bool = False  # False: known by userid only (WeCom was unreachable)
    synced_at: datetime = time_field(default_now=True)


class Membership(SQLModel, table=True):
    """A user's place in a department; `is_leader` mirrors WeCom's is_leader_in_dept."""

    userid: str = Field(primary_key=True, max_length=64)
    department_id: int = Field(primary_key=True, index=True)
    is_leader: bool = False


class RoleGrant(SQLModel, table=True):
    """A role granted to a userid; the user need not be known yet (grants precede first contact)."""

    __table_args__ = (UniqueConstraint("userid", "role", "department_id"),)
    id: int | None = Field(default=None, primary_key=True)
    userid: str = Field(index=True, max_length=64)
    role: str = Field(max_length=16)
    department_id: int = ALL_DEPARTMENTS
    granted_by: str = ""
    granted_at: datetime = Field(default_factory=utcnow)
