"""The directory cache under concurrency: first contacts of one department or user at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from sqlalchemy import select
from sqlmodel import Session

from bot.directory import ensure_user
from bot.wecom.emulator.directory import user_json
from models import Department, Membership, User


def answers_together(client, threads: int):
    """The app's client, except that user/get answers reach every thread at once: all of
    them then write their first contact in the same instant."""
    barrier = threading.Barrier(threads)

    def get(userid):
        data = client.user.get(userid)
        barrier.wait(timeout=30)
        return data

    return SimpleNamespace(user=SimpleNamespace(get=get), department=client.department)


def stored(engine) -> tuple[set, set, set]:
    with Session(engine) as session:
        return (set(session.scalars(select(Department.id))),
                {(u.userid, u.name, u.looked_up) for u in session.scalars(select(User))},
                {(m.userid, m.department_id, m.is_leader)
                 for m in session.scalars(select(Membership))})


def test_first_contacts_at_the_same_instant_store_each_user_once(app):
    engine = app.extensions["filingbot.engine"]
    userids = ["zhangsan", "lisi", "zhangsan", "lisi", "zhangsan", "lisi", "zhangsan", "lisi"]
    client = answers_together(app.extensions["filingbot.client"], len(userids))
    with ThreadPoolExecutor(max_workers=len(userids)) as pool:
        list(pool.map(lambda userid: ensure_user(engine, client, userid), userids))

    departments, users, memberships = stored(engine)
    assert departments == {5, 8}
    assert users == {("zhangsan", "张三", True), ("lisi", "李四", True)}
    expected = set()
    for userid in ("zhangsan", "lisi"):
        data = user_json(userid)
        pairs = zip(data["department"], data["is_leader_in_dept"], strict=True)
        expected |= {(userid, d, bool(leader)) for d, leader in pairs}
    assert memberships == expected

