"""Edge cases found by driving the console: each was a confusing or wrong reply once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Account, Conversation, Filing
from tests.factories import make_account, make_filing
from tests.wecom import say, sync_and_grant

ANNUAL = "年检\n账号：1\n发文数量：10\n粉丝数：100\n审核制度：是\n专人管理：是\n安全事件：无"


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    sync_and_grant(runner, [("wangwu", "office"), ("zhengshi", "tech")])


def test_the_offered_default_year_is_accepted(wecom, session):
    make_account(wecom.app)
    say(wecom, "zhangsan", "年检", "1")
    assert "发文数量" in say(wecom, "zhangsan", "默认")
    assert session.get(Conversation, "zhangsan").answers["year"] == 2025


def test_a_oneshot_annual_without_a_year_is_still_checked_for_duplicates(wecom, session):
    make_account(wecom.app)
    say(wecom, "zhangsan", ANNUAL, "确认")
    reply = say(wecom, "zhangsan", ANNUAL)
    assert "请勿重复提交" in reply and "年度" in reply
    assert len(session.scalars(select(Filing)).all()) == 1


def test_a_reason_question_does_not_swallow_commands(wecom, session):
    say(wecom, "zhangsan", "登记\n平台：抖音\n账号名称：文法\n账号ID：wf", "确认")
    card = [m for m in wecom.inbox("liming") if m["msgtype"] == "template_card"][-1]
    key = card["body"]["button_list"][1]["key"]
    wecom.as_user("liming").tap(card["task_id"], key)
    wecom.drain()
    assert "1. 新浪微博" in say(wecom, "liming", "登记")  # a command, not the reason
    say(wecom, "liming", "取消")
    assert "「材料不全」" in say(wecom, "liming", "材料不全")
    assert "已发给" in say(wecom, "liming", "确认")


def test_commands_pass_through_a_form_and_the_form_waits(wecom, session):
    say(wecom, "liming", "登记", "抖音")
    reply = say(wecom, "liming", "待办")
    assert "没有等您处理" in reply and "尚未提交" in reply
    assert session.get(Conversation, "liming").step == "name"


def test_skip_is_refused_on_a_required_field(wecom, session):
    say(wecom, "zhangsan", "申请", "抖音")
    assert "必填" in say(wecom, "zhangsan", "跳过")
    assert "name" not in session.get(Conversation, "zhangsan").answers


def test_text_reject_on_an_annual_review_means_rectify_not_fail(wecom, session):
    make_account(wecom.app)
    filing = make_filing(wecom.app, kind="annual", status="awaiting_office", account_id=1,
                         fields={"account": {"id": 1, "name": "文法学院微信"}, "year": 2025})
    say(wecom, "wangwu", f"驳回 {filing} 数据不完整")
    session.expire_all()
    assert session.get(Filing, filing).status == "returned"
    assert session.get(Account, 1).status == "active"
    assert "数据不完整" in wecom.texts("liming")[-1]  # the department gets the requirements


def test_a_second_close_of_the_same_account_is_refused(wecom, session):
    make_account(wecom.app)
    say(wecom, "zhangsan", "注销\n账号：1\n原因：停用", "确认")
    reply = say(wecom, "zhangsan", "注销\n账号：1\n原因：停用")
    assert "请勿重复提交" in reply


def test_a_closed_account_is_not_called_another_departments(wecom):
    make_account(wecom.app, status="closed", filing_no="SPH-2026-0002", name="旧视频号",
                 platform="SPH", external_id="old")
    make_account(wecom.app, external_id="other", filing_no="WX-2025-0009")
    say(wecom, "zhangsan", "注销")
    reply = say(wecom, "zhangsan", "SPH-2026-0002")
    assert "已注销" in reply and "不是本部门" not in reply


def test_text_decisions_on_missing_or_already_decided_filings(wecom, session):
    assert "没有找到" in say(wecom, "wangwu", "同意 99")
    filing = make_filing(wecom.app, kind="register", status="awaiting_office",
                         fields={"platform": "DY", "name": "x", "external_id": "x1"})
    say(wecom, "wangwu", f"同意 {filing}")
    assert "已由王五处理" in say(wecom, "wangwu", f"同意 {filing}")


def test_more_after_the_last_page_says_so(wecom):
    say(wecom, "zhangsan", "查询")
    assert "没有更多" in say(wecom, "zhangsan", "更多")


def test_form_words_outside_a_form(wecom):
    assert "没有正在填写" in say(wecom, "zhangsan", "取消")


def test_a_template_mid_form_keeps_the_form(wecom, session):
    say(wecom, "zhangsan", "登记", "抖音")
    assert "自查说明（选填）：" in say(wecom, "zhangsan", "年检 模板")
    assert session.get(Conversation, "zhangsan").kind == "register"
    summary = say(wecom, "lisi", "登记\n平台：抖音\n账号名称：开放\n账号ID：kf\n主页链接（选填）：")
    assert "多个部门" in summary or "请核对" in summary


def reject_card(wecom, submitter="zhangsan"):
    say(wecom, submitter, "登记\n平台：抖音\n账号名称：文法\n账号ID：wf", "确认")
    card = [m for m in wecom.inbox("liming") if m["msgtype"] == "template_card"][-1]
    wecom.as_user("liming").tap(card["task_id"], card["body"]["button_list"][1]["key"])
    wecom.drain()


def test_help_aliases_and_english_commands_are_not_taken_as_reasons(wecom, clock):
    reject_card(wecom)
    assert "账号备案助手" in say(wecom, "liming", "?")
    assert "没有等您处理" in say(wecom, "liming", "todo")
    clock.advance(minutes=31)  # the question lapses
    assert "没有看懂" in say(wecom, "liming", "今天先这样")
    assert not any("今天先这样" in t for t in wecom.texts("zhangsan"))


def test_reminders_for_another_day_are_delivered_now(app, runner, wecom):
    from tests.factories import make_account as account
    account(app)
    out = runner.invoke(args=["reminders", "run", "--today", "2027-01-04"]).output
    assert "年检提醒 1 项" in out
    assert "已发送" in runner.invoke(args=["outbox", "drain"]).output
    assert any("年检提醒" in t for t in wecom.messages("zhangsan"))


def test_wrong_decision_words_for_the_stage_say_which_words_fit(wecom, session):
    filing = make_filing(wecom.app, kind="register", status="awaiting_office",
                         fields={"platform": "DY", "name": "x", "external_id": "x1"})
    reply = say(wecom, "wangwu", f"合格 {filing}")
    assert f"同意 {filing}" in reply and f"驳回 {filing}" in reply


def test_a_bad_year_in_a_oneshot_is_asked_not_replaced(wecom, session):
    make_account(wecom.app)
    reply = say(wecom, "zhangsan", ANNUAL + "\n年度：2030")
    assert "年度" in reply and "检查哪一年度" in reply
    assert "year" not in session.get(Conversation, "zhangsan").answers


def tap_the_annual_reminder_card(app, wecom, clock) -> None:
    """lisi, admin of 开放教育学院's account, taps it on the 2026 年检 reminder card."""
    from datetime import date, datetime

    from bot import reminders
    from bot.clock import SHANGHAI

    make_account(wecom.app, name="开放教育抖音", department_id=8, admins=("lisi",), platform="DY",
                 external_id="kf", filing_no="DY-2025-0001")
    clock.at = datetime(2027, 1, 4, 10, tzinfo=SHANGHAI)
    reminders.run(app, date(2027, 1, 4))
    wecom.drain()
    card = [m for m in wecom.inbox("lisi") if m["msgtype"] == "template_card"][-1]
    wecom.as_user("lisi").tap(card["task_id"], card["body"]["button_list"][0]["key"])
    wecom.drain()


def test_the_reminder_card_knows_the_department_and_says_which_account(app, wecom, clock, session):
    tap_the_annual_reminder_card(app, wecom, clock)
    shown = wecom.texts("lisi")[-1]
    assert "开放教育抖音" in shown and "2026 年度" in shown and "发文数量" in shown
    assert "多个部门" not in shown
    assert session.get(Conversation, "lisi").dialogue["department_id"] == 8


def test_the_reminder_card_asks_every_question_left_including_the_remarks(app, wecom, clock,
                                                                          session):
    """The card gives the account and the year; the rest is asked one by one, as when 年检 is
    typed, so the optional 自查说明 is offered too (a one-shot form would skip it)."""
    tap_the_annual_reminder_card(app, wecom, clock)
    assert "发文数量" in wecom.texts("lisi")[-1]
    assert "自查说明" in say(wecom, "lisi", "120", "3000", "是", "是", "无")
    summary = say(wecom, "lisi", "账号已按要求整改完毕")
    assert "账号已按要求整改完毕" in summary and "确认" in summary
    answers = session.get(Conversation, "lisi").answers
    assert (answers["year"], answers["posts"]) == (2026, 120)
    assert answers["remarks"] == "账号已按要求整改完毕"


def test_withdraw_with_a_wrong_number(wecom):
    reply = say(wecom, "zhangsan", "撤回 99")
    assert "#99" in reply and "只能撤回自己提交" in reply


def test_edit_and_help_in_the_middle_of_the_questions(wecom, session):
    say(wecom, "zhangsan", "登记", "抖音")
    assert "账号在哪个平台" in say(wecom, "zhangsan", "修改 平台")
    assert "账号名称" in say(wecom, "zhangsan", "快手")
    assert "账号备案助手" in say(wecom, "zhangsan", "?")
    answers = session.get(Conversation, "zhangsan").answers
    assert answers["platform"] == "KS" and "name" not in answers


def test_a_second_pending_change_of_the_same_account_is_refused(wecom):
    make_account(wecom.app)
    say(wecom, "zhangsan", "变更\n账号：1\n新负责人：zhangsan\n原因：调整", "确认")
    assert "请勿重复提交" in say(wecom, "zhangsan", "变更\n账号：1\n新负责人：lisi\n原因：调整")


def test_a_corrected_oneshot_is_merged_into_the_open_form(wecom, session):
    reply = say(wecom, "zhangsan",
                "申请\n平台：推特\n拟用名称：文法之声\n申请理由：宣传\n内容定位：新闻")
    assert "推特" in reply
    summary = say(wecom, "zhangsan", "申请\n平台：抖音")
    assert (summary.startswith("请核对") and "平台：抖音" in summary
            and "拟用名称：文法之声" in summary)


def test_the_same_person_twice_is_one_administrator(wecom, session):
    summary = say(wecom, "zhangsan",
                  "登记\n平台：抖音\n账号名称：文法\n账号ID：wf\n管理员：张三、李四、zhangsan")
    assert "管理员：张三、李四\n" in summary


def test_a_second_return_tells_the_first_submitter_no_reason_came(wecom):
    reject_card(wecom)
    say(wecom, "zhangsan", "登记\n平台：快手\n账号名称：文法二\n账号ID：wf2", "确认")
    card = [m for m in wecom.inbox("liming") if m["msgtype"] == "template_card"][-1]
    wecom.as_user("liming").tap(card["task_id"], card["body"]["button_list"][1]["key"])
    wecom.drain()
    assert any("未填写理由" in t and "#1" in t for t in wecom.texts("zhangsan"))


def test_an_ordered_closure_is_not_something_to_approve(wecom):
    make_account(wecom.app, status="ordered_closed")
    case = make_filing(wecom.app, kind="close", status="ordered", account_id=1,
                       fields={"account": {"id": 1, "name": "文法学院微信"},
                               "reason": "年检不合格"})
    assert "责令注销事项" in say(wecom, "wangwu", f"同意 {case}")
