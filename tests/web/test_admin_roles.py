"""/admin/roles: admin only; grant and revoke through bot.role_changes, audited like the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditLog, RoleGrant


@pytest.fixture
def admin(web, grant):
    grant("sunqi", "admin")
    web.login_as("sunqi")
    return web


def grants_of(session, userid):
    return sorted((g.role, g.department_id) for g in session.scalars(
        select(RoleGrant).where(RoleGrant.userid == userid)))


def test_the_page_lists_grants_and_the_wecom_leaders(admin, web, grant):
    grant("wangwu", "office")
    web.login_as("liming")  # a WeCom leader: known to the directory once signed in
    admin.login_as("sunqi")
    page = admin.get("/admin/roles").get_data(as_text=True)
    assert "党政办公室审批人" in page and "wangwu" in page and "系统管理员" in page
    leaders = page.split("企业微信部门负责人（自动）")[1]
    assert "李明" in leaders and "文法学院" in leaders  # liming leads 文法学院 in WeCom


@pytest.mark.parametrize("userid,role", [("zhangsan", "office"), ("liming", "dept_head"),
                                         ("wangwu", None)])
def test_only_admin_may_open_it(web, grant, userid, role):
    if role:
        grant(userid, role, 5 if role == "dept_head" else None)
    web.login_as(userid)
    answer = web.get("/admin/roles")
    assert answer.status_code == 403
    assert "没有权限" in answer.get_data(as_text=True)


def test_grant_through_the_form_is_audited(admin, session, clock):
    admin.login_as("zhangsan")  # zhangsan known to the directory
    admin.login_as("sunqi")
    answer = admin.post("/admin/roles/grant", {"userid": "zhangsan", "role": "office"},
                        token_from="/admin/roles")
    assert answer.status_code == 303
    page = admin.get("/admin/roles").get_data(as_text=True)
    assert "已授予 zhangsan 角色「党政办公室审批人」" in page
    assert ("office", 0) in grants_of(session, "zhangsan")
    entry = session.scalars(select(AuditLog).where(AuditLog.actor == "sunqi")).one()
    assert (entry.actor, entry.after) == ("sunqi", {"userid": "zhangsan", "role": "office",
                                                    "department_id": 0})
    assert entry.at == clock.now()


def test_dept_head_needs_a_department(admin, session):
    admin.login_as("zhangsan")
    admin.login_as("sunqi")
    answer = admin.post("/admin/roles/grant", {"userid": "zhangsan", "role": "dept_head"},
                        token_from="/admin/roles")
    assert answer.status_code == 400
    assert "需要选择部门" in answer.get_data(as_text=True)
    answer = admin.post("/admin/roles/grant", {"userid": "zhangsan", "role": "dept_head",
                                               "department": "5"}, token_from="/admin/roles")
    assert answer.status_code == 303
    assert grants_of(session, "zhangsan") == [("dept_head", 5)]


@pytest.mark.parametrize("form,message", [
    ({"userid": "", "role": "office"}, "1–64 个字母"),
    ({"userid": "no such", "role": "office"}, "1–64 个字母"),
    ({"userid": "nobody", "role": "office"}, "通讯录里没有成员"),
    ({"userid": "sunqi", "role": "king"}, "请选择要授予的角色"),
    ({"userid": "sunqi", "role": "dept_head", "department": "999"}, "所选部门不存在"),
    ({"userid": "sunqi", "role": "dept_head", "department": "x"}, "所选部门不存在"),
])
def test_a_bad_grant_is_refused_in_chinese_and_changes_nothing(admin, session, form, message):
    before = grants_of(session, form["userid"])
    answer = admin.post("/admin/roles/grant", form, token_from="/admin/roles")
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    assert grants_of(session, form["userid"]) == before
    assert session.scalars(select(AuditLog).where(AuditLog.actor == "sunqi")).all() == []


def test_granting_twice_says_so_and_audits_once(admin, session):
    for _ in range(2):
        admin.post("/admin/roles/grant", {"userid": "sunqi", "role": "tech"},
                   token_from="/admin/roles")
    assert "已有角色「教育技术与资源中心」" in admin.get("/admin/roles").get_data(as_text=True)
    entries = session.scalars(select(AuditLog).where(AuditLog.actor == "sunqi")).all()
    assert [e.action for e in entries] == ["role:grant"]


def test_revoke_through_the_form_is_audited(admin, session, grant):
    grant("wangwu", "office")
    answer = admin.post("/admin/roles/revoke", {"userid": "wangwu", "role": "office",
                                                "department": "0"}, token_from="/admin/roles")
    assert answer.status_code == 303
    assert "已收回 wangwu 的角色" in admin.get("/admin/roles").get_data(as_text=True)
    assert grants_of(session, "wangwu") == []
    entry = session.scalars(select(AuditLog).where(AuditLog.actor == "sunqi")).one()
    assert entry.action == "role:revoke" and entry.before["userid"] == "wangwu"


def test_a_forged_revoke_changes_nothing(admin, session, grant):
    grant("wangwu", "office")
    answer = admin.post("/admin/roles/revoke", {"userid": "wangwu", "role": "office",
                                                "department": "0"}, token_from=None)
    assert answer.status_code == 400
    assert "操作没有执行" in answer.get_data(as_text=True)
    assert grants_of(session, "wangwu") == [("office", 0)]


def test_a_forged_grant_with_another_sessions_token_changes_nothing(admin, app, emulator, session):
    from tests.web.actions import WebActions

    other = WebActions(app, emulator)
    other.login_as("sunqi")
    foreign = other.csrf_token("/admin/roles")
    answer = admin.client.post("/admin/roles/grant", data={"userid": "sunqi", "role": "office",
                                                           "csrf_token": foreign + "x"})
    assert answer.status_code == 400
    assert ("office", 0) not in grants_of(session, "sunqi")


def test_the_cli_audits_grants_and_revokes_too(runner, session):
    assert runner.invoke(args=["roles", "grant", "wangwu", "office"]).exit_code == 0
    assert runner.invoke(args=["roles", "revoke", "wangwu", "office"]).exit_code == 0
    entries = session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(e.actor, e.action) for e in entries] == [("cli", "role:grant"), ("cli", "role:revoke")]
