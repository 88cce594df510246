"""The directory cache: first contacts at once, heads looked up when unknown, the daily sync."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import select
from sqlmodel import Session

from bot.clock import SHANGHAI
from bot.directory import ensure_user, lookup_heads
from bot.wecom.emulator.directory import user_json
from models import Department, Filing, Membership, User
from tests.factories import make_account
from tests.wecom import say, sync_and_grant


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



REGISTER = "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019\n负责人：李明"


def test_item15_a_head_unknown_at_routing_is_looked_up_on_the_spot(wecom, emulator, runner,
                                                                    session):
    """文法学院 had no head when the directory was synced; one was appointed since: the filing
    goes to them (department/get → department_leader), not to "nobody to decide"."""
    emulator.move("liming", [(5, False)])
    sync_and_grant(runner, [("wangwu", "office")])
    emulator.move("liming", [(5, True)])
    say(wecom, "zhangsan", REGISTER, "确认")
    assert not any("没有设置审批人" in t for t in wecom.texts("zhangsan"))
    [card] = [m for m in wecom.inbox("liming") if m["msgtype"] == "template_card"]
    assert card["body"]["main_title"]["title"].startswith("部门确认")
    assert emulator.call_count("department/get") == 1
    assert session.get(Membership, ("liming", 5)).is_leader


def test_item15_lookup_heads_falls_back_to_members_is_leader_in_dept(app, emulator, runner):
    """Without department_leader (a leader outside the app's range, doc 95407) the heads are
    read from the department's members (user/list → is_leader_in_dept)."""
    emulator.hide_department_leader = True
    engine, client = app.extensions["filingbot.engine"], app.extensions["filingbot.client"]
    assert runner.invoke(args=["directory", "sync"]).exit_code == 0
    emulator.move("hanmei", [(6, False)])
    emulator.move("liulei", [(6, True)])  # 经济管理学院 has a new head
    with Session(engine) as session:  # inside the caller's transaction
        assert lookup_heads(session, client, 6) == ["liulei"]
        session.commit()
    assert emulator.call_count("user/list") == 8 + 1  # the sync's, then the lookup's
    _, _, memberships = stored(engine)
    assert ("liulei", 6, True) in memberships and ("hanmei", 6, False) in memberships
    emulator.hide_department_leader = False
    assert lookup_heads(engine, client, 5) == ["liming"]  # its own transaction


def test_item15_the_worker_syncs_the_directory_daily_and_checks_drift(app, wecom, emulator,
                                                                      runner, clock):
    """Daily at REMINDER_TIME the worker refreshes the directory, then asks heads for a 变更
    about accounts whose 管理员 or 负责人 left the school or the department."""
    from bot.worker import sync_if_due

    assert runner.invoke(args=["directory", "sync"]).exit_code == 0
    make_account(app, admins=("zhangsan",), leader=("liming", "李明"))
    emulator.leave("zhangsan")  # the 管理员 left the school
    emulator.move("liming", [(8, False)])  # the 负责人 moved to 开放教育学院
    emulator.move("lisi", [(5, True), (8, False)])  # 文法学院's new head
    clock.at = datetime(2026, 11, 26, 8, 59, tzinfo=SHANGHAI)
    assert not sync_if_due(app)  # before 09:00
    clock.at = datetime(2026, 11, 26, 9, 1, tzinfo=SHANGHAI)
    assert sync_if_due(app)
    assert not sync_if_due(app)  # once a day
    assert emulator.call_count("department/list") == 2  # the CLI's, then the worker's
    wecom.drain()
    drift = [t for t in wecom.texts("lisi") if "请办理变更" in t]
    assert len(drift) == 2
    assert any("管理员张三已不在学校通讯录中" in t for t in drift)
    assert any("负责人李明已不在本部门" in t for t in drift)
    clock.at = datetime(2026, 11, 27, 9, 1, tzinfo=SHANGHAI)
    assert sync_if_due(app)  # the next day again; the same drift is not told twice
    assert emulator.call_count("department/list") == 3
    wecom.drain()
    assert len([t for t in wecom.texts("lisi") if "请办理变更" in t]) == 2


def test_item15_a_department_wecom_names_no_head_for_still_tells_the_submitter(
        wecom, emulator, runner, session):
    """WeCom is asked once; with nobody leading the department the submitter is told, as
    before, and nothing is lost."""
    emulator.move("liming", [(5, False)])
    sync_and_grant(runner, [("wangwu", "office"), ("sunqi", "admin")])
    lists = emulator.call_count("user/list")
    say(wecom, "zhangsan", REGISTER, "确认")
    assert any("没有设置审批人" in t for t in wecom.texts("zhangsan"))
    assert emulator.call_count("department/get") == 1
    assert emulator.call_count("user/list") == lists + 1
    assert session.scalar(select(Filing.status)) == "awaiting_dept"
