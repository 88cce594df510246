"""The emulator's web login follows WeCom's documented protocol (docs 91022, 98151, 91023):
links are validated, codes are single use and live 5 minutes, 40029 otherwise."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import requests

from bot.wecom.emulator import oauth
from tests.web.actions import query_of
from tests.wecom import AGENT_ID, CORP_ID

OAUTH = {"appid": CORP_ID, "redirect_uri": "https://filing.example.edu.cn/login/callback?x=1",
         "response_type": "code", "scope": "snsapi_base", "state": "abc123",
         "agentid": str(AGENT_ID)}
WEB = {"login_type": "CorpApp", "appid": CORP_ID, "agentid": str(AGENT_ID),
       "redirect_uri": "https://filing.example.edu.cn/login/callback", "state": "abc123"}


def getuserinfo(emulator_server, token: str, code: str) -> dict:
    return requests.get(emulator_server.api_base + "auth/getuserinfo",
                        params={"access_token": token, "code": code}, timeout=5).json()


def access_token(emulator_server) -> str:
    return requests.get(emulator_server.api_base + "gettoken",
                        params={"corpid": CORP_ID, "corpsecret": emulator_server.emulator.secret},
                        timeout=5).json()["access_token"]


@pytest.mark.parametrize("path,params", [("/connect/oauth2/authorize", OAUTH),
                                         ("/wwlogin/sso/login", WEB)])
def test_both_links_show_the_members_and_send_back_a_code_and_the_state(emulator_server, path,
                                                                       params):
    base = f"http://127.0.0.1:{emulator_server.port}{path}?{urlencode(params)}"
    page = requests.get(base, timeout=5)
    assert page.status_code == 200 and "王五" in page.text and "zhangsan" in page.text
    back = requests.get(base + "&userid=zhangsan", allow_redirects=False, timeout=5)
    assert back.status_code == 302
    location = back.headers["Location"]
    assert location.startswith("https://filing.example.edu.cn/login/callback?")
    query = query_of(location)
    assert query["state"] == "abc123" and query["code"]
    if path.startswith("/connect"):
        assert query["x"] == "1"  # the redirect_uri's own query survives


@pytest.mark.parametrize("change", [{"appid": "wwother"}, {"agentid": "999"},
                                    {"scope": "snsapi_userinfo"}, {"response_type": "token"},
                                    {"redirect_uri": "not-a-url"}, {"state": "has space"},
                                    {"state": "x" * 129}])
def test_a_bad_oauth2_link_gets_an_error_page(emulator_server, change):
    url = (f"http://127.0.0.1:{emulator_server.port}/connect/oauth2/authorize?"
           f"{urlencode({**OAUTH, **change})}&userid=zhangsan")
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 400 and "参数错误" in answer.text


def test_the_web_login_link_needs_corpapp_and_the_agentid(emulator_server):
    for change in ({"login_type": "ServiceApp"}, {"agentid": ""}):
        url = (f"http://127.0.0.1:{emulator_server.port}/wwlogin/sso/login?"
               f"{urlencode({**WEB, **change})}&userid=zhangsan")
        assert requests.get(url, allow_redirects=False, timeout=5).status_code == 400


def test_the_trusted_domain_is_enforced_when_set(emulator_server, emulator):
    emulator.trusted_domain = "other.example.edu.cn"
    url = (f"http://127.0.0.1:{emulator_server.port}/connect/oauth2/authorize?"
           f"{urlencode(OAUTH)}&userid=zhangsan")
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 400 and "可信域名" in answer.text


def test_a_code_is_spent_once(emulator_server, emulator):
    token = access_token(emulator_server)
    code = oauth.issue_code(emulator, userid="zhangsan")
    assert getuserinfo(emulator_server, token, code) == {"errcode": 0, "errmsg": "ok",
                                                          "userid": "zhangsan"}
    assert getuserinfo(emulator_server, token, code) == {"errcode": 40029,
                                                          "errmsg": "invalid code"}
    assert getuserinfo(emulator_server, token, "unknown")["errcode"] == 40029


def test_a_code_expires_after_5_minutes(emulator_server, emulator, clock):
    token = access_token(emulator_server)
    code = oauth.issue_code(emulator, userid="zhangsan")
    clock.advance(minutes=5)
    assert getuserinfo(emulator_server, token, code)["errcode"] == 40029


def test_an_outsider_gets_an_openid_and_no_userid(emulator_server, emulator):
    code = oauth.issue_code(emulator, openid="oOutsider")
    answer = getuserinfo(emulator_server, access_token(emulator_server), code)
    assert answer["openid"] == "oOutsider" and "userid" not in answer


def test_getuserinfo_needs_a_valid_access_token(emulator_server, emulator):
    code = oauth.issue_code(emulator, userid="zhangsan")
    assert getuserinfo(emulator_server, "bogus", code)["errcode"] == 40014
    assert getuserinfo(emulator_server, access_token(emulator_server), code)["userid"] == "zhangsan"
