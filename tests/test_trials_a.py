"""Issue 14, as the trials found it (items 2, 4, 6, 7, 13, 18): each test drives the bot through
the emulator and fails on the behaviour the trials reported."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Filing
from tests.test_approval import GRANTS, REGISTER, cards, refresh, tap
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
