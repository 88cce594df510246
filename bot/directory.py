"""The directory cache: who a userid is, which departments they belong to and lead (SPEC §2).

读取成员 user/get (doc 90196), 获取部门列表 department/list (doc 90208),
获取部门成员详情 user/list (doc 90201)."""

from __future__ import annotations

import logging
from datetime import timedelta

import requests
from sqlalchemy import delete, update
from sqlmodel import Session
from wechatpy.exceptions import WeChatClientException

from bot.sql import claim_row, dialect_insert
from models import Department, Membership, User, utcnow

log = logging.getLogger(__name__)


RETRY_LOOKUP_AFTER = timedelta(minutes=10)


def needs_lookup(user) -> bool:
    """A user known by userid only is looked up again, at most every 10 minutes."""
    return not user.looked_up and utcnow() - user.synced_at > RETRY_LOOKUP_AFTER


def ensure_user(engine, client, userid: str) -> None:
    """Make sure `userid` is cached, asking WeCom (user/get) on first contact.

    Runs before the callback's transaction: no database lock is held during the API call.
    If WeCom cannot be reached the user is kept by userid alone and looked up next time."""
    with Session(engine) as session:
        user = session.get(User, userid)
        known = user is not None and not needs_lookup(user)
        session.rollback()
    if known:
        return
    try:
        data = client.user.get(userid)
    except (WeChatClientException, requests.RequestException) as exc:
        log.warning("user/get failed for a new user: %s",
                    getattr(exc, "errcode", type(exc).__name__))
        data = None
    names = {}
    if data is not None:
        with Session(engine) as session:
            unknown = [d for d in data.get("department", []) if session.get(Department, d) is None]
            session.rollback()
        names = {dept_id: _department_name(client, dept_id) for dept_id in unknown}
    with Session(engine) as session:
        if data is None:
            placeholder = claim_user(session, userid)
            placeholder.looked_up, placeholder.synced_at = False, utcnow()
        else:
            add_departments(session, [{"id": d, "name": n} for d, n in names.items()])
            store_user(session, data)
        session.commit()


def _department_name(client, dept_id: int) -> str:
    try:
        return client.department.get(dept_id)[0]["name"]
    except (WeChatClientException, requests.RequestException, IndexError, KeyError):
        return f"部门{dept_id}"


def claim_user(session: Session, userid: str) -> User:
    """The user's row, created by userid alone if missing, locked for this transaction: two
    first contacts of one user (or a sync meeting one) queue instead of colliding."""
    return claim_row(session, User, userid=userid, name=userid, looked_up=False,
                     synced_at=utcnow())


def add_departments(session: Session, items: list[dict]) -> None:
    """Insert departments not stored yet (`id`, `name`); ones another transaction stored win."""
    if items:
        session.execute(dialect_insert(session)(Department)
                        .values([{**item, "synced_at": utcnow()} for item in items])
                        .on_conflict_do_nothing(index_elements=["id"]))


def store_user(session: Session, data: dict) -> User:
    """Insert or refresh a user and their memberships from a user/get or user/list entry."""
    user = claim_user(session, data["userid"])
    user.name = data.get("name") or user.userid
    user.position = data.get("position") or ""
    user.active = data.get("status", 1) in (1, 4)  # 1 activated, 4 not yet activated
    user.looked_up = True
    user.synced_at = utcnow()
    departments = data.get("department", [])
    leaders = data.get("is_leader_in_dept") or [0] * len(departments)
    session.execute(delete(Membership).where(Membership.userid == user.userid))
    for dept_id, leader in zip(departments, leaders, strict=False):
        session.add(Membership(userid=user.userid, department_id=dept_id, is_leader=bool(leader)))
    return user


def sync_directory(engine, client) -> dict:
    """Refresh every department and user the app can see; users no longer seen become inactive.

    All API calls happen first, so no database lock is held while WeCom answers."""
    departments = client.department.get()
    entries: dict[str, dict] = {}
    for item in departments:
        for entry in client.user.list(item["id"], fetch_child=False, simple=False):
            entries.setdefault(entry["userid"], entry)
    with Session(engine) as session:
        add_departments(session, [{"id": item["id"], "name": item["name"]} for item in departments])
        for item in departments:
            dept = session.get(Department, item["id"])
            dept.name, dept.parent_id = item["name"], item.get("parentid")
            dept.sort_order, dept.synced_at = item.get("order", 0), utcnow()
        session.flush()
        for entry in entries.values():
            store_user(session, entry)
        gone = session.execute(
            update(User).where(User.userid.not_in(list(entries)), User.active.is_(True),
                               User.looked_up.is_(True))
            .values(active=False)
        ).rowcount
        session.commit()
    return {"departments": len(departments), "users": len(entries), "left": gone}
