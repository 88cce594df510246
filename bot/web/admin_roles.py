"""/admin/roles: `admin` lists, grants and revokes roles (SPEC §2), audited like the CLI.

Grants go through bot.role_changes, the CLI's own road. The page offers members the bot
knows (the directory cache); a userid not met yet can still be granted with the CLI."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot import role_changes
from bot.web.auth import roles_required
from bot.web.db import clock, read_session, write_session
from bot.web.users import current_user
from models import ALL_DEPARTMENTS, Department, Membership, User
from workflow import roles

bp = Blueprint("admin_roles", __name__)

USERID_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")  # WeCom userid: 1-64 letters, digits, _-.@


@bp.get("/admin/roles")
@roles_required("admin")
def page():
    """Every grant, the WeCom department leaders, and the grant form."""
    return render_template("web/admin/roles.html", **_page_data())


@bp.post("/admin/roles/grant")
@roles_required("admin")
def grant():
    """Grant a role to a known member; a bad field re-shows the form with a Chinese message."""
    form = {k: request.form.get(k, "").strip() for k in ("userid", "role", "department")}
    problem, department_id = _check(form)
    if problem:
        return render_template("web/admin/roles.html", **_page_data(problem, form)), 400
    with write_session() as db:
        try:
            added = role_changes.grant(db, actor=current_user.userid, at=clock().now(),
                                       userid=form["userid"], role=form["role"],
                                       department_id=department_id)
            db.commit()
        except IntegrityError:  # another admin granted the same at the same moment
            added = False
    flash({"key": "granted" if added else "already", "userid": form["userid"],
           "role": form["role"]})
    return redirect(url_for(".page"), code=303)


@bp.post("/admin/roles/revoke")
@roles_required("admin")
def revoke():
    """Revoke one grant (role, userid, department as listed)."""
    userid, role = request.form.get("userid", ""), request.form.get("role", "")
    department = request.form.get("department", "")
    if role not in roles.GRANTABLE or not USERID_RE.fullmatch(userid) \
            or not department.isdigit():
        return render_template("web/admin/roles.html", **_page_data("bad_revoke")), 400
    with write_session() as db:
        removed = role_changes.revoke(db, actor=current_user.userid, at=clock().now(),
                                      userid=userid, role=role, department_id=int(department))
        db.commit()
    flash({"key": "revoked" if removed else "not_held", "userid": userid, "role": role})
    return redirect(url_for(".page"), code=303)


def _check(form: dict) -> tuple[str | None, int | None]:
    """The first problem with a grant form (a message key), and the department id."""
    db = read_session()
    if not USERID_RE.fullmatch(form["userid"]):
        return "userid_format", None
    user = db.get(User, form["userid"])
    if user is None or not user.active:
        return "userid_unknown", None
    if form["role"] not in roles.GRANTABLE:
        return "role_unknown", None
    department_id = None
    if form["department"]:
        if not form["department"].isdigit() or db.get(Department, int(form["department"])) is None:
            return "department_unknown", None
        department_id = int(form["department"])
    if form["role"] == "dept_head" and department_id is None:
        return "department_needed", None
    return None, department_id


def _page_data(problem: str | None = None, form: dict | None = None) -> dict:
    """What the page shows; `problem` (a message key) and `form` re-show a refused grant."""
    db = read_session()
    departments = db.scalars(select(Department).order_by(Department.sort_order,
                                                         Department.id)).all()
    names = {d.id: d.name for d in departments}
    grants = [{"grant": g, "name": name,
               "department": None if g.department_id == ALL_DEPARTMENTS
               else names.get(g.department_id, f"部门{g.department_id}")}
              for g, name in roles.list_grants(db)]
    leaders = db.execute(
        select(User.userid, User.name, Membership.department_id)
        .join(Membership, Membership.userid == User.userid)
        .where(Membership.is_leader.is_(True), User.active.is_(True))
        .order_by(Membership.department_id, User.userid)
    ).all()
    members = db.execute(select(User.userid, User.name).where(User.active.is_(True))
                         .order_by(User.name, User.userid)).all()
    return {"grants": grants, "departments": departments, "names": names,
            "leaders": leaders, "members": members, "grantable": roles.GRANTABLE,
            "problem": problem, "form": form or {}}
