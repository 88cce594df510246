"""Every approval card opens the filing's page (card_action, and a 查看详情 button while the
card has room), and `查询 N` ends with the same link (issue #11 §2)."""

from __future__ import annotations

import pytest

from bot import create_app
from bot.links import SANDBOX_URL
from bot.wecom.emulator.cards import CardError, validate_card
from tests.wecom import WeComActions, say, sync_and_grant

REGISTER = "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019\n用途：学院新闻"


@pytest.fixture
def public_app(app_env, clock):
    app = create_app({"ENV": app_env | {"PUBLIC_URL": "https://filing.example.edu.cn"},
                      "CLOCK": clock, "OUTBOX_THREAD": False})
    yield app
    app.extensions["filingbot.engine"].dispose()


def last_card(wecom, userid):
    return [m for m in wecom.inbox(userid) if m["msgtype"] == "template_card"][-1]["body"]


def test_cards_and_query_link_to_the_public_address(public_app, emulator):
    runner = public_app.test_cli_runner()
    sync_and_grant(runner, [("wangwu", "office")])
    wecom = WeComActions(public_app, emulator)
    say(wecom, "zhangsan", REGISTER, "确认")
    card = last_card(wecom, "liming")
    link = "https://filing.example.edu.cn/filings/1"
    assert card["card_action"] == {"type": 1, "url": link}
    detail = card["button_list"][-1]
    assert (detail["type"], detail["text"], detail["url"]) == (1, "查看详情", link)
    assert [b["text"] for b in card["button_list"]] == ["确认", "退回", "查看详情"]
    answer = say(wecom, "zhangsan", "查询 1")
    assert answer.rstrip().endswith(f"详情：{link}")
    assert "账号ID：wenfa2019" in answer and "用途：学院新闻" in answer  # every field


def test_without_public_url_links_use_the_sandbox_address(app, emulator, runner):
    sync_and_grant(runner, [])
    wecom = WeComActions(app, emulator)
    say(wecom, "zhangsan", REGISTER, "确认")
    assert last_card(wecom, "liming")["card_action"]["url"] == f"{SANDBOX_URL}/filings/1"


def test_the_emulator_refuses_a_card_action_without_an_http_url():
    card = {"card_type": "button_interaction", "task_id": "t1", "main_title": {"title": "x"},
            "button_list": [{"text": "确认", "key": "k"}], "card_action": {"type": 1, "url": "ftp://x"}}
    with pytest.raises(CardError):
        validate_card(card)
