"""Role grants (SPEC §2) and who holds a role.

Grants are by userid and may precede first contact.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlmodel import Session

from models import ALL_DEPARTMENTS, ROLES, Department, Membership, RoleGrant, User

GRANTABLE = tuple(r for r in ROLES if r != "staff")  # every directory member is staff


class RoleError(ValueError):
    """A grant or revoke that cannot be done; the message says why (in Chinese, for the CLI)."""


def grant(session: Session, userid: str, role: str, department_id: int | None = None,
          granted_by: str = "cli") -> bool:
    """Grant `role`; returns False if it was already granted."""
    check_role(role)
    dept = department_id if department_id is not None else ALL_DEPARTMENTS
    if role == "dept_head" and dept == ALL_DEPARTMENTS:
        raise RoleError("dept_head 角色需要指定部门：--department ID")
    exists = session.scalar(select(RoleGrant.id).where(
        RoleGrant.userid == userid, RoleGrant.role == role, RoleGrant.department_id == dept))
    if exists:
        return False
    session.add(RoleGrant(userid=userid, role=role, department_id=dept, granted_by=granted_by))
    return True


def revoke(session: Session, userid: str, role: str, department_id: int | None = None) -> int:
    """Revoke `role` (for one department, or every grant of it); returns how many were removed."""
    check_role(role)
    query = delete(RoleGrant).where(RoleGrant.userid == userid, RoleGrant.role == role)
    if department_id is not None:
        query = query.where(RoleGrant.department_id == department_id)
    return session.execute(query).rowcount


def check_role(role: str) -> None:
    if role not in GRANTABLE:
        raise RoleError(f"未知角色 {role!r}，可选：{', '.join(GRANTABLE)}")


def list_grants(session: Session) -> list[tuple[RoleGrant, str | None]]:
    """Every grant with the user's name when known."""
    rows = session.execute(
        select(RoleGrant, User.name).outerjoin(User, User.userid == RoleGrant.userid)
        .order_by(RoleGrant.role, RoleGrant.userid)
    ).all()
    return [(g, name) for g, name in rows]


def has_role(session: Session, userid: str, role: str, department_id: int | None = None) -> bool:
    """Whether `userid` holds `role` (for `department_id`, or school-wide)."""
    query = select(RoleGrant.id).where(RoleGrant.userid == userid, RoleGrant.role == role)
    if department_id is not None:
        query = query.where(or_(RoleGrant.department_id == department_id,
                                RoleGrant.department_id == ALL_DEPARTMENTS))
    return session.scalar(query.limit(1)) is not None


def holders(session: Session, role: str) -> list[str]:
    """Userids holding `role` school-wide (e.g. every `office` approver)."""
    return list(session.scalars(
        select(RoleGrant.userid).where(RoleGrant.role == role).distinct().order_by(RoleGrant.userid)
    ))


def department_heads(session: Session, department_id: int) -> list[str]:
    """WeCom leaders of the department plus `dept_head` grants for it (SPEC §5 stage 1)."""
    leaders = set(session.scalars(select(Membership.userid).where(
        Membership.department_id == department_id, Membership.is_leader.is_(True))))
    granted = set(session.scalars(select(RoleGrant.userid).where(
        RoleGrant.role == "dept_head", RoleGrant.department_id == department_id)))
    return sorted(leaders | granted)


def role_names(session: Session, userid: str) -> tuple[set[str], list[int]]:
    """The roles `userid` holds (dept_head when granted or a WeCom leader) and the departments
    they head."""
    grants = session.execute(select(RoleGrant.role, RoleGrant.department_id)
                             .where(RoleGrant.userid == userid)).all()
    led = list(session.scalars(select(Membership.department_id).where(
        Membership.userid == userid, Membership.is_leader.is_(True))))
    headed = led + [dept for role, dept in grants if role == "dept_head"]
    roles = {role for role, _ in grants} | ({"dept_head"} if headed else set())
    return roles, list(dict.fromkeys(headed))


def departments_of(session: Session, userid: str) -> list[Department]:
    """The departments `userid` belongs to, in directory order."""
    return list(session.scalars(
        select(Department).join(Membership, Membership.department_id == Department.id)
        .where(Membership.userid == userid).order_by(Department.sort_order, Department.id)
    ))
