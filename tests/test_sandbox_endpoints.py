"""/sandbox's endpoints against a running server: CSRF on every POST, a clear answer for every
bad input (never a 500), messages in order on the phone, nothing secret on the page."""

from __future__ import annotations

import re

import pytest
import requests

from bot.wecom import sandbox as sandbox_credentials
from tests.gunicorn_server import wait_for


@pytest.fixture
def browser_session(sandbox_server):
    """A requests session holding the page's cookie, and the page's CSRF token."""
    web = requests.Session()
    page = web.get(sandbox_server.url + "/sandbox?as=zhangsan,liming", timeout=10)
    assert page.status_code == 200
    token = re.search(r'"csrf": "([^"]+)"', page.text).group(1)
    web.headers["X-CSRFToken"] = token
    yield web
    web.close()


# Each case below is checked against one running server (starting one costs seconds).
WITHOUT_TOKEN = [
    ("say", {"userid": "zhangsan", "text": "帮助"}),
    ("tap", {"userid": "liming", "task_id": "x", "key": "y"}),
    ("clock", {"date": "2027-01-05"}),
    ("reminders", {}),
]
BAD_INPUT = [
    ("say", {"userid": "zhangsan", "text": "  "}, 400, "empty"),
    ("say", {"userid": "zhangsan", "text": "字" * 4001}, 400, "too_long"),
    ("say", {"userid": "nobody", "text": "帮助"}, 404, "unknown_user"),
    ("say", ["not", "an", "object"], 400, "bad_request"),
    ("tap", {"userid": "liming", "task_id": "nope", "key": "k"}, 404, "no_card"),
    ("clock", {"date": "2027-13-45"}, 400, "bad_date"),
    ("clock", {"date": "2027-01-05", "time": "25:00"}, 400, "bad_date"),
]
BAD_FEED = ["as=zhangsan&after=x", "as=zhangsan,liming&after=0", "as=nobody&after=0"]


def test_every_post_needs_the_csrf_token_and_bad_input_is_named(sandbox_server,
                                                               browser_session):
    url = sandbox_server.url
    for endpoint, body in WITHOUT_TOKEN:
        response = requests.post(f"{url}/sandbox/{endpoint}", json=body, timeout=10)
        assert (endpoint, response.status_code, response.json()) == \
            (endpoint, 400, {"error": "csrf"})
    assert sandbox_server.emulator.inbox("zhangsan") == []
    for endpoint, body, status, error in BAD_INPUT:
        response = browser_session.post(f"{url}/sandbox/{endpoint}", json=body, timeout=10)
        assert (endpoint, response.status_code, response.json()["error"]) == \
            (endpoint, status, error)
    for query in BAD_FEED:
        response = requests.get(f"{url}/sandbox/feed?{query}", timeout=10)
        assert (query, response.status_code, response.json()["error"]) == \
            (query, 400, "bad_request")


def test_a_message_and_its_replies_reach_the_phone_in_order(sandbox_server, browser_session):
    url = sandbox_server.url
    one_shot = "登记\r\n平台：抖音\r\n账号名称：文法学院抖音号\r\n账号ID：wfxy_dy\r\n负责人：李明"
    response = browser_session.post(url + "/sandbox/say",
                                    json={"userid": "zhangsan", "text": one_shot}, timeout=15)
    assert response.status_code == 200, response.text
    feed = browser_session.get(url + "/sandbox/feed", params={"as": "zhangsan,liming",
                                                             "after": "0,0"}, timeout=10).json()
    mine, reply = feed["phones"]["zhangsan"]["messages"][:2]
    assert mine["mine"] and mine["text"] == one_shot.replace("\r\n", "\n")
    assert not reply["mine"] and "管理员" in reply["text"]  # asks for what is missing
    later = browser_session.get(url + "/sandbox/feed", params={
        "as": "zhangsan", "after": str(reply["id"])}, timeout=10).json()
    assert later["phones"]["zhangsan"]["messages"] == []


def test_a_greyed_card_cannot_be_tapped_again(sandbox_server, browser_session):
    url = sandbox_server.url
    say = {"userid": "zhangsan", "text": "登记\n平台：抖音\n账号名称：文法学院抖音号\n"
           "账号ID：wfxy_dy\n负责人：李明\n管理员：张三\n用途：短视频\n开通时间：2020年1月"}
    assert browser_session.post(url + "/sandbox/say", json=say, timeout=15).ok
    assert browser_session.post(url + "/sandbox/say", json={"userid": "zhangsan", "text": "确认"},
                                timeout=15).ok
    emulator = sandbox_server.emulator
    card = wait_for(lambda: next((m for m in emulator.inbox("liming")
                                  if m["msgtype"] == "template_card"), None))
    tap = {"userid": "liming", "task_id": card["task_id"],
           "key": card["body"]["button_list"][0]["key"]}
    assert browser_session.post(url + "/sandbox/tap", json=tap, timeout=15).ok
    again = browser_session.post(url + "/sandbox/tap", json=tap, timeout=15)
    assert again.status_code == 409 and again.json() == {"error": "greyed",
                                                         "replace_name": "已确认 · 李明"}
    assert browser_session.post(url + "/sandbox/tap", json={**tap, "key": "nope"},
                                timeout=15).json()["error"] == "greyed"


def test_the_page_shows_no_secret(sandbox_server):
    page = requests.get(sandbox_server.url + "/sandbox", timeout=10).text
    feed = requests.get(sandbox_server.url + "/sandbox/feed?as=zhangsan&after=0", timeout=10).text
    for secret in (sandbox_credentials.SECRET, sandbox_credentials.TOKEN,
                   sandbox_credentials.AES_KEY):
        assert secret not in page and secret not in feed
