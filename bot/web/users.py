"""Who is signed in: `current_user` for views and templates.

Roles come from bot.roles' tables: role grants, plus `dept_head` for a WeCom department leader
(Membership.is_leader) or a `dept_head` grant; every directory member is `staff` (SPEC §2)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, session
from sqlalchemy import select
from werkzeug.local import LocalProxy

from bot.web import SESSION_LIFETIME
from bot.web.db import clock, read_session
from models import ALL_DEPARTMENTS, Department, Membership, RoleGrant, User


@dataclass(frozen=True)
class DepartmentRef:
    id: int
    name: str


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in member: userid, name, roles, departments, and the departments they head."""

    userid: str
    name: str
    roles: frozenset[str]
    departments: tuple[DepartmentRef, ...]
    head_of: frozenset[int]  # WeCom leader of, or granted dept_head for

    def has_role(self, *roles: str) -> bool:
        """Whether the user holds any of `roles`."""
        return not self.roles.isdisjoint(roles)


def load_user(db, userid: str) -> CurrentUser | None:
    """The member `userid` as a CurrentUser; None when unknown to the directory or gone."""
    user = db.get(User, userid)
    if user is None or not user.active:
        return None
    places = db.execute(
        select(Membership.department_id, Membership.is_leader, Department.name)
        .outerjoin(Department, Department.id == Membership.department_id)
        .where(Membership.userid == userid).order_by(Membership.department_id)
    ).all()
    grants = db.execute(select(RoleGrant.role, RoleGrant.department_id)
                        .where(RoleGrant.userid == userid)).all()
    head_of = {dept for dept, leader, _ in places if leader}
    head_of |= {dept for role, dept in grants
                if role == "dept_head" and dept != ALL_DEPARTMENTS}
    roles = {"staff"} | {role for role, _ in grants}
    if head_of:
        roles.add("dept_head")
    return CurrentUser(
        userid=user.userid, name=user.name, roles=frozenset(roles),
        departments=tuple(DepartmentRef(d, name or f"部门{d}") for d, _, name in places),
        head_of=frozenset(head_of),
    )


def get_current_user(refresh: bool = False) -> CurrentUser | None:
    """The signed-in user of this request, or None (no session, expired, or no longer a member).

    The session holds the userid and the login time by the app's clock; a login older than
    SESSION_LIFETIME ends here, whatever the cookie's own expiry says. Loaded once per request
    (`refresh` loads again), and only by requests that ask: callbacks never do."""
    if refresh:
        g.pop("web_user", None)
    if "web_user" in g:
        return g.web_user
    user = None
    if not g.get("web_user_disabled"):  # error pages of a failing database render without one
        userid, login_at = session.get("uid"), session.get("login_at")
        if isinstance(userid, str) and isinstance(login_at, int | float):
            age = clock().now().timestamp() - login_at
            if 0 <= age <= SESSION_LIFETIME.total_seconds():
                user = load_user(read_session(), userid)
        if user is None and "uid" in session:
            session.clear()
    g.web_user = user
    return user


current_user: CurrentUser | None = LocalProxy(get_current_user)  # type: ignore[assignment]


def is_sandbox_picker() -> bool:
    """Sandbox with the built-in emulator: /login lists the demo users instead of WeCom's links."""
    return "filingbot.emulator" in current_app.extensions
