"""The directory cache: who a userid is, which departments they belong to and lead (SPEC §2).

读取成员 user/get (doc 90196), 获取部门列表 department/list (doc 90208),
获取部门成员详情 user/list (doc 90201), 获取单个部门详情 department/get
(https://developer.work.weixin.qq.com/document/path/95407, the 第三方 edition; a 普通自建应用
gets the departments in its range, department_leader listing the leaders it can see)."""

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
# A head is looked up while a callback waits (WeCom wants its answer within 5 s): each call of
# the lookup gets a short timeout, not the client's 10 s.
LOOKUP_TIMEOUT = 1.5


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


def lookup_heads(target, client, department_id: int) -> list[str]:
    """Ask WeCom who leads `department_id` now, cache it, and return their userids.

    For a department with no head in the cache (never synced, or a head appointed since the
    last sync). department/get gives department_leader, each leader is then read with user/get;
    when it names nobody (the field is left out for leaders outside the app's range), the
    department's members' is_leader_in_dept (user/list) decide. WeCom's word replaces the
    cached leader flags of the department. If WeCom cannot be reached: [] and nothing changes.

    `target` is an Engine (the lookup commits in a transaction of its own) or a Session (it
    writes into the caller's transaction, which the caller commits). Never call it with a
    transaction open on SQLite: every transaction there holds the write lock, and the client's
    access token is read through the database, so the call would wait for itself. Inside a
    callback, routing raises workflow.routing.HeadsUnknown instead (bot.wecom.inbound)."""
    entries, leaders = fetch_heads(client, department_id)
    if entries is None:
        return []
    if isinstance(target, Session):
        store_heads(target, department_id, entries, leaders)
        return leaders
    with Session(target) as session:
        store_heads(session, department_id, entries, leaders)
        session.commit()
    return leaders


def fetch_heads(client, department_id: int) -> tuple[list[dict] | None, list[str]]:
    """Directory entries (of the heads, or of every member) and the heads' userids;
    (None, []) when WeCom could not be asked. Makes the API calls only: no database."""
    answer = _ask(client, "department/get", id=department_id)
    leaders = list(dict.fromkeys(((answer or {}).get("department") or {})
                                 .get("department_leader") or []))
    if leaders:
        # A leader user/get cannot read now is kept by userid, and read at first contact.
        return [_ask(client, "user/get", userid=u) or {"userid": u} for u in leaders], leaders
    members = _ask(client, "user/list", department_id=department_id)
    if members is None:
        return None, []
    entries = members.get("userlist") or []
    return entries, [e["userid"] for e in entries if _leads(e, department_id)]


def store_heads(session: Session, department_id: int, entries: list[dict],
                leaders: list[str]) -> None:
    """Cache the entries read, and mark exactly `leaders` as the department's heads."""
    for entry in entries:
        if "name" in entry:
            store_user(session, entry)
        else:  # known by userid only: looked up at their first contact
            user = claim_user(session, entry["userid"])
            if not user.looked_up:
                user.synced_at = utcnow() - 2 * RETRY_LOOKUP_AFTER
    session.flush()
    session.execute(update(Membership)
                    .where(Membership.department_id == department_id,
                           Membership.userid.not_in(leaders), Membership.is_leader.is_(True))
                    .values(is_leader=False))
    for userid in leaders:
        claim_row(session, Membership, userid=userid, department_id=department_id,
                  is_leader=True).is_leader = True


def _leads(entry: dict, department_id: int) -> bool:
    """Whether a user/get or user/list entry leads `department_id` (is_leader_in_dept)."""
    flags = entry.get("is_leader_in_dept") or []
    return any(d == department_id and flag
               for d, flag in zip(entry.get("department") or [], flags, strict=False))


def _ask(client, endpoint: str, **params) -> dict | None:
    """GET a directory endpoint with the lookup's short timeout; None if it failed."""
    try:
        return client.get(endpoint, params=params, timeout=LOOKUP_TIMEOUT)
    except (WeChatClientException, requests.RequestException) as exc:
        log.warning("%s failed while looking up heads: %s", endpoint,
                    getattr(exc, "errcode", None) or type(exc).__name__)
        return None
