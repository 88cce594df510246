"""Who is signed in: `current_user` for views and templates.

Roles come from workflow.roles (grants, plus `dept_head` for a WeCom department leader or a
`dept_head` grant); every directory member is `staff` (SPEC §2). `current_user.viewer` is what
workflow.access's queries take, so a page never decides visibility itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, session
from werkzeug.local import LocalProxy

from bot.web.db import clock, read_session
from models import User
from workflow import access
from workflow.access import Viewer
from workflow.roles import departments_of, role_names

SESSION_LIFETIME = timedelta(hours=8)  # a login lasts a working day (issue #11)


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
    viewer: Viewer  # what workflow.access's queries take: who sees what

    def has_role(self, *roles: str) -> bool:
        """Whether the user holds any of `roles`."""
        return not self.roles.isdisjoint(roles)


def load_user(db, userid: str) -> CurrentUser | None:
    """The member `userid` as a CurrentUser; None when unknown to the directory or gone."""
    user = db.get(User, userid)
    if user is None or not user.active:
        return None
    roles, headed = role_names(db, userid)
    return CurrentUser(
        userid=user.userid, name=user.name, roles=frozenset(roles | {"staff"}),
        departments=tuple(DepartmentRef(d.id, d.name) for d in departments_of(db, userid)),
        head_of=frozenset(headed), viewer=access.viewer(db, userid),
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
