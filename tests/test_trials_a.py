"""Issue 14, as the trials found it (items 2, 4, 6, 7, 13, 18): each test drives the bot through
the emulator and fails on the behaviour the trials reported."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Account, Filing
from tests.test_approval import GRANTS, REGISTER, cards, last_text, refresh, tap
from tests.wecom import say, sync_and_grant


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    sync_and_grant(runner, GRANTS)


def test_item2_deciders_see_every_field(wecom, session):
    say(wecom, "zhangsan", REGISTER + "\n主页链接：https://mp.weixin.qq.com/wenfa\n开通时间：2019-09",
        "确认")
    filing = session.scalars(select(Filing)).one()
    shown = say(wecom, "liming", f"查询 {filing.id}")
    fields = ["平台：微信公众号", "账号名称：文法学院", "账号ID：wenfa2019",
              "主页链接：https://mp.weixin.qq.com/wenfa", "负责人：李明", "管理员：张三",
              "用途：学院新闻", "开通时间：2019-09"]
    for line in fields:
        assert line in shown, line
    assert shown.index(fields[-1]) < shown.index("张三：提交")  # the fields, then the history
    assert f"同意 {filing.id}" in shown  # how to decide from here
    say(wecom, "liming", f"同意 {filing.id}")
    assert refresh(session, Filing, filing.id).status == "awaiting_office"
    shown = say(wecom, "wangwu", f"查询 {filing.id}")
    assert "账号ID：wenfa2019" in shown and f"驳回 {filing.id}" in shown
    say(wecom, "wangwu", f"同意 {filing.id}")
    assert refresh(session, Filing, filing.id).status == "approved"
    # the submitter sees the fields too, without an invitation to decide
    mine = say(wecom, "zhangsan", f"查询 {filing.id}")
    assert "用途：学院新闻" in mine and f"同意 {filing.id}" not in mine


def test_item4_todo_sends_a_card_only_where_the_last_one_cannot_be_tapped(wecom, session, clock):
    from models import OutboxMessage
    say(wecom, "zhangsan", REGISTER, "确认")
    first = session.scalars(select(Filing)).one()
    assert len(cards(wecom, "liming")) == 1
    for _ in range(3):
        todo = say(wecom, "liming", "待办")
        assert f"#{first.id}" in todo
    assert len(cards(wecom, "liming")) == 1  # the card they have still works: no second one
    clock.advance(hours=73)  # its response code has expired: the card cannot be greyed any more
    say(wecom, "liming", "待办")
    assert len(cards(wecom, "liming")) == 2
    say(wecom, "liming", "待办")
    assert len(cards(wecom, "liming")) == 2
    # a card that never reached them (its send died) is sent again; the live one is not
    say(wecom, "zhangsan", "登记\n平台：新浪微博\n账号名称：文法学院微博\n账号ID：1234567890")
    wecom.as_user("zhangsan").say("确认")
    session.execute(OutboxMessage.__table__.update()
                    .where(OutboxMessage.card_task_id.is_not(None),
                           OutboxMessage.status == "pending")
                    .values(status="dead", last_error="test: never delivered"))
    wecom.drain()
    assert len(cards(wecom, "liming")) == 2
    todo = say(wecom, "liming", "待办")
    assert "2 件" in todo
    mine = cards(wecom, "liming")
    assert len(mine) == 3 and mine[-1]["task_id"].startswith(f"f{first.id + 1}-")
    tap(wecom, "liming", "确认", mine[1])
    assert refresh(session, Filing, first.id).status == "awaiting_office"


def annual_for(wecom, account_name: str, year: int = 2026) -> Filing:
    say(wecom, "zhangsan", f"年检\n账号：{account_name}\n年度：{year}\n发文数量：12\n粉丝数：300\n"
        "审核制度：是\n专人管理：是\n安全事件：无", "确认")


def test_item6_a_returned_or_withdrawn_annual_leaves_the_account_missing(app, wecom, session,
                                                                         clock):
    from datetime import date

    from tests.factories import make_account
    from tests.test_reminders import run_on
    for n, name in enumerate(("退回号", "撤回号", "整改号")):
        make_account(app, name=name, external_id=f"wx{n}a", filing_no=f"WX-2025-000{n + 1}")
    run_on(app, clock, date(2027, 1, 2))  # a Saturday in the window: the first reminders
    wecom.drain()
    annual_for(wecom, "退回号")
    tap(wecom, "liming", "退回")
    say(wecom, "liming", "粉丝数不对")
    annual_for(wecom, "撤回号")
    withdrawn = session.scalars(select(Filing).order_by(Filing.id.desc())).first()
    assert "已撤回" in say(wecom, "zhangsan", f"撤回 {withdrawn.id}")
    annual_for(wecom, "整改号")
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "限期整改")
    say(wecom, "wangwu", "补齐审核记录")
    before = len(wecom.messages("zhangsan"))
    run_on(app, clock, date(2027, 1, 11))  # Monday: reminders again, and the office's digest
    wecom.drain()
    reminded = "\n".join(wecom.messages("zhangsan")[before:])
    assert "退回号" in reminded and "撤回号" in reminded  # still missing: reminded again
    assert "整改号" not in reminded  # rectifying by its own deadline
    digest = wecom.messages("wangwu")[-1]
    assert "周报" in digest and "审核中或整改中 1" in digest and "未提交 2" in digest
    assert "文法学院：完成 0｜审核中/整改中 1｜未提交 2" in digest


def test_item7_a_passed_annual_is_copied_to_publicity_and_approvers_see_the_number(wecom,
                                                                                  session):
    from tests.factories import make_account
    make_account(wecom.app, external_id="wenfa_old")
    annual_for(wecom, "文法学院微信", 2025)
    tap(wecom, "liming", "确认")
    copies = len(wecom.texts("zhouba"))
    tap(wecom, "wangwu", "合格")
    [copy] = wecom.texts("zhouba")[copies:]  # SPEC §5.5: publicity gets a copy
    assert "抄送" in copy and "文法学院微信" in copy and "合格" in copy and "2025" in copy
    assert "已批准" not in copy
    # the approver's own confirmation of a 登记/申请 shows the 备案编号 it assigned
    say(wecom, "zhangsan", REGISTER, "确认")
    tap(wecom, "liming", "确认")
    assert "备案编号" not in last_text(wecom, "liming")
    tap(wecom, "wangwu", "批准")
    assert "备案编号：WX-2026-0001" in last_text(wecom, "wangwu")
    say(wecom, "zhangsan", "申请\n平台：抖音\n拟用名称：文法新声\n申请理由：宣传\n内容定位：学院动态",
        "确认")
    tap(wecom, "liming", "确认")
    tap(wecom, "zhaoliu", "批准")
    applied = session.scalars(select(Filing).order_by(Filing.id.desc())).first()
    number = session.get(Account, applied.account_id).filing_no
    assert number.startswith("DY-2026-") and f"备案编号：{number}" in last_text(wecom, "zhaoliu")


def test_item13_office_and_publicity_query_everything_in_chat(app, wecom, session):
    from tests.factories import make_account
    make_account(app, name="文法学院微信", external_id="wenfa2019", filing_no="WX-2025-0001")
    for n in range(9):
        make_account(app, name=f"经管微博{n}", platform="WB", external_id=f"10000{n}",
                     filing_no=f"WB-2025-000{n + 1}", department_id=6, admins=("liulei",))
    make_account(app, name="文法学院微博", platform="WB", external_id="200001",
                 filing_no="WB-2025-0010")
    make_account(app, name="经管学院抖音", platform="DY", external_id="jg", department_id=6,
                 filing_no="DY-2025-0001", admins=("liulei",))
    say(wecom, "zhangsan", REGISTER.replace("wenfa2019", "wenfa2020").replace("：文法学院\n",
                                                                              "：文法新闻\n"), "确认")
    say(wecom, "xuli", "登记\n平台：抖音\n账号名称：理工学院抖音\n账号ID：ligong", "确认")
    for userid in ("wangwu", "zhouba", "sunqi"):  # office, publicity, admin
        department = say(wecom, userid, "查询 文法学院")
        assert "文法学院微信" in department and "文法学院微博" in department, userid
        assert "文法新闻" in department
        assert "经管学院" not in department and "理工学院抖音" not in department
        assert "没有找到" not in department
    waiting = say(wecom, "wangwu", "查询 待审")
    assert "文法新闻" in waiting and "理工学院抖音" in waiting and "文法学院微信" not in waiting
    weibo = say(wecom, "zhouba", "查询 微博")
    assert "经管微博0" in weibo and "文法学院微博" in weibo and "10 个" in weibo
    assert "文法学院微信" not in weibo and "经管学院抖音" not in weibo
    more = say(wecom, "zhouba", "更多")  # the same listing goes on
    assert "经管微博8" in more and "文法学院微信" not in more
    assert "没有更多" in say(wecom, "zhouba", "更多")
    # staff keep today's behaviour: their own department's accounts by 备案编号 or name
    assert "没有找到" in say(wecom, "zhangsan", "查询 微博")
    assert "没有找到" in say(wecom, "xuli", "查询 文法学院")
    assert "文法学院微信" in say(wecom, "zhangsan", "查询 WX-2025-0001")
    assert "理工学院抖音" not in say(wecom, "zhangsan", "查询")
