"""Issue 14, as the trials found it (items 2, 4, 6, 7, 13, 18): each test drives the bot through
the emulator and fails on the behaviour the trials reported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Account, Filing
from tests.test_approval import REGISTER, last_text, refresh
from tests.wecom import EVERY_ROLE, cards, say, sync_and_grant, tap

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    sync_and_grant(runner, EVERY_ROLE)


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
    say(wecom, "liming", "粉丝数不对", "确认")
    annual_for(wecom, "撤回号")
    withdrawn = session.scalars(select(Filing).order_by(Filing.id.desc())).first()
    assert "已撤回" in say(wecom, "zhangsan", f"撤回 {withdrawn.id}")
    annual_for(wecom, "整改号")
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "限期整改")
    say(wecom, "wangwu", "补齐审核记录", "确认")
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
    say(wecom, "zhangsan",
        "申请\n平台：抖音\n拟用名称：文法新声\n申请理由：宣传\n内容定位：学院动态", "确认")
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
    news = REGISTER.replace("wenfa2019", "wenfa2020").replace("：文法学院\n", "：文法新闻\n")
    say(wecom, "zhangsan", news, "确认")
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


# --- item 18: words ---------------------------------------------------------------------------
ANNUAL_2025 = ("年检\n账号：{}\n年度：2025\n发文数量：12\n粉丝数：300\n审核制度：是\n专人管理：是\n"
               "安全事件：无")
QUOTED = re.compile(r"“[^”]*”")
STRAY_SPACE = re.compile(r"[\u4e00-\u9fff（），。：、“”｜] (?=[\u4e00-\u9fff（），。：、“”｜])"
                         r"|[\u4e00-\u9fff（），。：、“”｜] (?=[（），。：、“”｜])")


def test_item18_words_one_name_for_each_number():
    """A filing's #N is its 事项编号, an account's number its 备案编号: never a bare 编号."""
    for path in TEMPLATES.rglob("*.j2"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer("编号", text):
            before = text[max(0, match.start() - 2):match.start()]
            assert before in ("事项", "备案"), f"{path.relative_to(TEMPLATES)}: …{before}编号"


def test_item18_words_a_filing_is_numbered_as_its_事项编号(wecom, session):
    reply = say(wecom, "zhangsan", REGISTER, "确认")
    filing = session.scalars(select(Filing)).one()
    assert f"事项编号 #{filing.id}" in reply
    [card] = cards(wecom, "liming")
    assert card["body"]["main_title"]["desc"].startswith(f"事项编号 #{filing.id}")


def test_item18_words_annual_statuses_and_history_say_from_what_to_what(wecom, session):
    from tests.factories import make_account
    make_account(wecom.app, name="文法学院微信")
    make_account(wecom.app, name="文法学院抖音", platform="DY", external_id="wfdy",
                 filing_no="DY-2025-0001")
    say(wecom, "zhangsan", ANNUAL_2025.format("文法学院微信"), "确认")
    annual = session.scalars(select(Filing)).one()
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "限期整改")
    say(wecom, "wangwu", "补齐审核记录", "确认")
    fixing = say(wecom, "zhangsan", f"查询 {annual.id}")
    assert fixing.splitlines()[0].endswith("｜限期整改") and "已退回" not in fixing
    assert "（待党政办审核 → 限期整改）" in fixing
    say(wecom, "zhangsan", ANNUAL_2025.format("文法学院微信"), "确认")
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "合格")
    history = say(wecom, "zhangsan", f"查询 {annual.id}")
    assert history.splitlines()[0].endswith("｜合格") and "已批准" not in history
    assert "张三：重新提交（限期整改 → 待部门确认）" in history
    assert "王五：年检合格（待党政办审核 → 合格）" in history
    account = say(wecom, "zhangsan", "查询 WX-2025-0001")
    assert f"#{annual.id} 年检｜合格" in account and "已批准" not in account
    assert "记录年检（最近年检 无 → 2025）" in account
    say(wecom, "zhangsan", ANNUAL_2025.format("文法学院抖音"), "确认")
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "不合格")
    say(wecom, "wangwu", "长期停更", "确认")
    failed = say(wecom, "zhangsan", "查询 DY-2025-0001")
    assert "年检｜不合格" in failed and "账号状态变更" not in failed
    assert "王五：账号状态（正常 → 责令注销）" in failed


def test_item18_words_no_stray_spaces(wecom, session):
    from tests.factories import make_account
    make_account(wecom.app)
    texts = [say(wecom, "liming", "零报告")]
    assert "文法学院有正常运营的账号" in texts[0]
    say(wecom, "zhangsan", REGISTER.replace("wenfa2019", "wenfa2020"), "确认")
    filing = session.scalars(select(Filing)).one()
    texts.append(say(wecom, "zhangsan", f"撤回 {filing.id}"))
    assert f"已撤回官方账号登记（附表1）#{filing.id}" in texts[-1]
    say(wecom, "zhangsan", REGISTER.replace("wenfa2019", "wenfa2021"), "确认")
    tap(wecom, "liming", "确认")
    second = session.scalars(select(Filing).order_by(Filing.id.desc())).first()
    say(wecom, "wangwu", f"同意 {second.id}")
    texts.append(say(wecom, "zhaoliu", f"同意 {second.id}"))
    assert "已由王五处理" in texts[-1]
    texts.append(say(wecom, "zhangsan", f"查询 {second.id}"))
    for userid in ("zhangsan", "liming", "wangwu", "zhaoliu", "zhouba"):
        texts += wecom.messages(userid)
    for text in texts:  # commands quoted as examples (“同意 12”) keep their space
        assert not STRAY_SPACE.search(QUOTED.sub("", text)), text


def test_item18_words_buttons_are_cut_at_a_word(app, wecom, clock):
    from datetime import date

    from tests.factories import make_account
    from tests.test_reminders import run_on
    make_account(app, name="西安电大开放教育学院", external_id="kfjy01", department_id=8,
                 filing_no="WX-2025-0001", admins=("zhangwei",))
    make_account(app, name="西安广播电视大学文法学院官方微信", external_id="wenfa01",
                 filing_no="WX-2025-0002", admins=("zhangwei",), department_id=8)
    make_account(app, name="开放教育学院学生工作办公室", external_id="kfxg01",
                 filing_no="WX-2025-0003", admins=("zhangwei",), department_id=8)
    run_on(app, clock, date(2027, 1, 4))
    wecom.drain()
    [card] = cards(wecom, "zhangwei")
    buttons = [b["text"] for b in card["body"]["button_list"]]
    assert buttons == ["年检：开放教育学院", "年检：文法学院官方…", "年检：开放教育学院…"]
    assert all(len(b) <= 10 for b in buttons)  # doc 90236: a button says at most 10 characters


def test_item18_words_one_rectification_decision_is_one_message(wecom, session, clock):
    from tests.factories import make_account
    make_account(wecom.app)
    say(wecom, "zhangsan", ANNUAL_2025.format("文法学院微信"), "确认")
    tap(wecom, "liming", "确认")
    before = {u: len(wecom.messages(u)) for u in ("zhangsan", "liming")}
    tap(wecom, "wangwu", "限期整改")
    say(wecom, "wangwu", "补齐审核记录", "确认")
    for userid in before:  # the submitter and the department's head: one message each
        [told] = wecom.messages(userid)[before[userid]:]
        assert "限期整改" in told and "补齐审核记录" in told
    # a typed decision with its requirement: one message too
    say(wecom, "zhangsan", ANNUAL_2025.format("文法学院微信"), "确认")
    tap(wecom, "liming", "确认")
    annual = session.scalars(select(Filing)).one()
    before = {u: len(wecom.messages(u)) for u in ("zhangsan", "liming")}
    say(wecom, "wangwu", f"整改 {annual.id} 补齐粉丝数据<b>")
    for userid in before:
        [told] = wecom.messages(userid)[before[userid]:]
        assert "限期整改" in told and "补齐粉丝数据&lt;b&gt;" in told  # escaped once
    # a return whose reason never comes: one message when the question lapses, naming whom to ask
    say(wecom, "zhangsan", REGISTER.replace("wenfa2019", "wenfa2022"), "确认")
    before = len(wecom.messages("zhangsan"))
    tap(wecom, "liming", "退回")
    assert wecom.messages("zhangsan")[before:] == []
    clock.advance(minutes=31)
    wecom.drain()
    [told] = wecom.messages("zhangsan")[before:]
    assert "退回" in told and "如有疑问请直接联系李明" in told
    # a later question closes the lapsed one: its message is not sent twice
    say(wecom, "zhangsan", REGISTER.replace("wenfa2019", "wenfa2023"), "确认")
    tap(wecom, "liming", "退回")
    assert sum("#2 被部门负责人李明退回" in t for t in wecom.messages("zhangsan")) == 1
    # a reason confirmed after the message went out follows it: nothing is lost
    clock.advance(minutes=25)
    say(wecom, "liming", "材料不全")  # the draft keeps the question open
    clock.advance(minutes=10)
    wecom.drain()
    say(wecom, "liming", "确认")
    assert "材料不全" in wecom.messages("zhangsan")[-1]


def test_item18_words_withdrawing_twice_says_it_is_withdrawn(wecom, session):
    say(wecom, "zhangsan", REGISTER, "确认")
    filing = session.scalars(select(Filing)).one()
    say(wecom, "zhangsan", f"撤回 {filing.id}")
    again = say(wecom, "zhangsan", f"撤回 {filing.id}")
    assert "已经撤回" in again and "不能撤回" not in again
