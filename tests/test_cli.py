"""CLI: db upgrade, roles, directory sync, outbox drain."""

from sqlalchemy import select

from models import Membership, RoleGrant, User
from workflow import roles


def test_db_upgrade_is_idempotent(runner):
    for _ in range(2):
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output


def test_a_grant_works_before_the_user_ever_wrote(runner, session):
    result = runner.invoke(args=["roles", "grant", "wangwu", "office"])
    assert result.exit_code == 0 and "已授予" in result.output
    assert session.get(User, "wangwu") is None
    assert roles.has_role(session, "wangwu", "office")
    assert roles.holders(session, "office") == ["wangwu"]
    again = runner.invoke(args=["roles", "grant", "wangwu", "office"])
    assert "已有" in again.output
    assert len(session.scalars(select(RoleGrant)).all()) == 1


def test_an_unknown_role_lists_the_valid_ones(runner, session):
    result = runner.invoke(args=["roles", "grant", "wangwu", "boss"])
    assert result.exit_code != 0
    assert "未知角色" in result.output and "office" in result.output and "tech" in result.output
    assert session.scalars(select(RoleGrant)).all() == []


def test_dept_head_needs_a_department(runner, session):
    assert runner.invoke(args=["roles", "grant", "liming", "dept_head"]).exit_code != 0
    assert runner.invoke(
        args=["roles", "grant", "zhangsan", "dept_head", "--department", "5"]).exit_code == 0
    assert roles.department_heads(session, 5) == ["zhangsan"]


def test_revoke_and_list(runner, session):
    runner.invoke(args=["roles", "grant", "chenyi", "tech"])
    listed = runner.invoke(args=["roles", "list"])
    assert "tech" in listed.output and "chenyi" in listed.output
    assert "已收回" in runner.invoke(args=["roles", "revoke", "chenyi", "tech"]).output
    assert not roles.has_role(session, "chenyi", "tech")
    assert "没有角色" in runner.invoke(args=["roles", "revoke", "chenyi", "tech"]).output


def test_directory_sync_caches_departments_users_and_leaders(runner, session, wecom):
    result = runner.invoke(args=["directory", "sync"])
    assert result.exit_code == 0, result.output
    assert session.get(User, "liming").name == "李明"
    assert roles.department_heads(session, 5) == ["liming"]
    lisi = session.scalars(select(Membership.department_id)
                           .where(Membership.userid == "lisi")).all()
    assert sorted(lisi) == [5, 8]


def test_an_unknown_user_is_kept_by_userid_when_wecom_cannot_say(wecom, session):
    delivery = wecom.as_user("ghost").say("帮助")
    assert delivery.status == 200 and delivery.text
    ghost = session.get(User, "ghost")
    assert ghost.name == "ghost" and not ghost.looked_up


def test_outbox_drain_command(runner, app, clock, wecom):
    from sqlmodel import Session

    from bot import outbox
    with Session(app.extensions["filingbot.engine"]) as s:
        outbox.enqueue_text(s, ["zhangsan"], "排队", now=clock.now())
        s.commit()
    result = runner.invoke(args=["outbox", "drain"])
    assert "已发送 1 条" in result.output
    assert wecom.texts("zhangsan") == ["排队"]
