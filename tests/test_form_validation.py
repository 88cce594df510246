"""Issue 14 item 16, through the emulator: dates in the future, a 年检 year before the account
existed, landlines and their normalisation, and 返回 right after a one-shot paste."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Account, Conversation
from tests.wecom import chat, say, sync_and_grant, tap
from workflow.forms import validators as v

GRANTS = [("wangwu", "office"), ("chenyi", "tech")]


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    sync_and_grant(runner, GRANTS)


REGISTER = "登记\n平台：抖音\n账号名称：文法视界\n账号ID：wenfa_dy"


@pytest.mark.parametrize("opened", ["2030年1月", "2026年12月", "2026-11-26", "2027"])
def test_item16_an_opening_date_in_the_future_is_refused(wecom, session, opened):
    """Today is 2026-11-25 (the clock fixture): a later 开通时间 is refused with a clear
    message, in a one-shot paste (the rest is kept) and as an answer (asked again)."""
    reply = chat(wecom, "zhangsan", f"{REGISTER}\n开通时间：{opened}")
    assert f"【开通时间】“{opened}”是将来的日期" in reply and "2026年11月25日" in reply
    assert "账号名称：文法视界" in reply and "开通时间：" not in reply.split("请核对")[1]
    asked = chat(wecom, "zhangsan", "修改 开通时间")
    assert "8/8】开通时间" in asked
    again = chat(wecom, "zhangsan", opened)
    assert f"“{opened}”是将来的日期" in again and "8/8】开通时间" in again
    summary = chat(wecom, "zhangsan", "2026年11月")  # this month has begun: accepted
    assert "开通时间：2026-11" in summary and "账号名称：文法视界" in summary


def test_item16_an_annual_year_before_an_applied_account_existed_is_refused(wecom, session):
    """An account the school applied for (art. 6) existed from its approval in 2026: no 年检
    for 2025, though it has no 开通时间."""
    say(wecom, "zhangsan",
        "申请\n平台：微信公众号\n拟用名称：文法新声\n申请理由：宣传\n内容定位：学院动态", "确认")
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "批准")
    tap(wecom, "chenyi", "已开通")
    say(wecom, "chenyi", "wenfa_xinsheng")
    account = session.scalars(select(Account)).one()
    assert account.status == "active" and "opened" not in account.details
    reply = chat(wecom, "zhangsan", "年检", "1")
    assert "年度" in reply
    refused = chat(wecom, "zhangsan", "2025")
    assert "账号2026年才开通" in refused and "不能填2025年" in refused
    oneshot = chat(wecom, "zhangsan", "取消", "年检\n账号：1\n年度：2025\n发文数量：3")
    assert "账号2026年才开通" in oneshot


@pytest.mark.parametrize("typed, shown", [
    ("李明 029-8888-1234", "李明 029-88881234"),
    ("李明 (029)88881234", "李明 029-88881234"),
    ("李明 (0)29-88881234", "李明 029-88881234"),
    ("李明 +86 (0)29 8888 1234", "李明 029-88881234"),
    ("李明 010-6275-1234转56", "李明 010-62751234-56"),
])
def test_item16_landlines_are_accepted_and_normalised(wecom, session, typed, shown):
    """A 负责人 with a landline written as people write them is read and shown normalised."""
    summary = chat(wecom, "zhangsan", f"{REGISTER}\n负责人：{typed}")
    assert summary.startswith("请核对") and f"负责人：{shown}" in summary
    session.expire_all()
    leader = session.get(Conversation, "zhangsan").answers["leader"]
    assert leader["userid"] == "liming" and leader["phone"] == shown.split(" ")[1]


@pytest.mark.parametrize("typed, expected", [
    ("029-8888-1234", "029-88881234"), ("(029)88881234", "029-88881234"),
    ("(0)29-88881234", "029-88881234"), ("+86 (0)29 8888 1234", "029-88881234"),
    ("+86 29 8888 1234", "029-88881234"), ("0755-8888-1234", "0755-88881234"),
    ("029-8888-1234-56", "029-88881234-56"), ("010-6275-1234转56", "010-62751234-56"),
])
def test_item16_phone_normalises_landlines_as_people_write_them(typed, expected):
    assert v.phone(typed) == expected


@pytest.mark.parametrize("typed", ["29-88881234", "(0)29-8888", "029-8888-1234-5678-9",
                                   "029-1234567-1234567", "+86 (0)29 88881234转1234567"])
def test_item16_phone_still_refuses_what_is_not_a_number(typed):
    with pytest.raises(v.Invalid) as caught:
        v.phone(typed)
    assert "带区号的座机号" in caught.value.message


def test_item16_back_right_after_a_oneshot_goes_to_the_previous_question(wecom, session):
    """The paste lacks 账号ID: the bot asks it (3/8); 返回 goes to 账号名称 (2/8), not on to
    管理员, and answering it comes back to 账号ID."""
    asked = chat(wecom, "zhangsan", "登记\n平台：抖音\n账号名称：文法视界\n用途：学院新闻")
    assert "3/8】账号ID" in asked
    back = chat(wecom, "zhangsan", "返回")
    assert "2/8】账号名称" in back
    assert "3/8】账号ID" in chat(wecom, "zhangsan", "文法视界抖音")
    summary = chat(wecom, "zhangsan", "wenfa_dy")
    assert "账号名称：文法视界抖音" in summary and "用途：学院新闻" in summary
    assert "7/8】用途" in chat(wecom, "zhangsan", "返回")  # from the summary: the last answered
    assert "6/8】管理员" in chat(wecom, "zhangsan", "返回")
