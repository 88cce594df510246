"""Edge cases found by driving the console: each was a confusing or wrong reply once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Account, Conversation, Filing
from tests.factories import make_account, make_filing

ANNUAL = "年检\n账号：1\n发文数量：10\n粉丝数：100\n审核制度：是\n专人管理：是\n安全事件：无"


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    assert runner.invoke(args=["directory", "sync"]).exit_code == 0
    for userid, role in [("wangwu", "office"), ("zhengshi", "tech")]:
        runner.invoke(args=["roles", "grant", userid, role])


def say(wecom, userid, *lines):
    reply = None
    for line in lines:
        reply = wecom.as_user(userid).say(line).text
        wecom.drain()
    return reply


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
    assert "已记录" in say(wecom, "liming", "材料不全")


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
    assert "已由 王五 处理" in say(wecom, "wangwu", f"同意 {filing}")


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
