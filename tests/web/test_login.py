"""Login with WeCom (WECOM.md §7A) through the emulator: both links, the callback's checks, the
session cookie, expiry, tampering, `next`, logout and the sandbox picker."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from bot import create_app
from bot.web.auth import safe_next
from bot.wecom.emulator import oauth
from bot.wecom.emulator.store import tokens
from tests.web.actions import DESKTOP_UA, WXWORK_UA, WebActions, query_of
from tests.wecom import AGENT_ID, CORP_ID, SECRET, WEB_SECRET_KEY


def test_inside_wecom_login_redirects_to_the_oauth2_link(web):
    answer = web.start_login("/audit", user_agent=WXWORK_UA)
    assert answer.status_code == 302
    link = answer.headers["Location"]
    assert link.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?")
    assert link.endswith("#wechat_redirect")
    query = query_of(link.split("#")[0])
    assert query == {"appid": CORP_ID, "redirect_uri": "http://localhost/login/callback",
                     "response_type": "code", "scope": "snsapi_base",
                     "state": query["state"], "agentid": str(AGENT_ID)}
    assert re.fullmatch(r"[A-Za-z0-9]{16,128}", query["state"])


def test_other_browsers_get_the_web_login_link(web):
    link = web.start_login(user_agent=DESKTOP_UA).headers["Location"]
    assert link.startswith("https://login.work.weixin.qq.com/wwlogin/sso/login?")
    query = query_of(link)
    assert query == {"login_type": "CorpApp", "appid": CORP_ID, "agentid": str(AGENT_ID),
                     "redirect_uri": "http://localhost/login/callback",
                     "state": query["state"]}


def test_public_url_builds_the_redirect_uri(app_env, clock, emulator):
    app = create_app({"ENV": {**app_env, "PUBLIC_URL": "https://filing.example.edu.cn/"},
                      "CLOCK": clock, "OUTBOX_THREAD": False})
    link = WebActions(app, emulator).start_login().headers["Location"]
    assert query_of(link)["redirect_uri"] == "https://filing.example.edu.cn/login/callback"
    app.extensions["filingbot.engine"].dispose()


@pytest.mark.parametrize("user_agent", [WXWORK_UA, DESKTOP_UA])
def test_a_member_signs_in_through_either_link_and_lands_on_next(web, emulator, user_agent):
    answer = web.login_as("zhangsan", "/audit?person=lisi", user_agent=user_agent)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/audit?person=lisi"
    home = web.get("/").get_data(as_text=True)
    assert "你好，张三" in home and "文法学院" in home
    assert emulator.call_count("auth/getuserinfo") == 1


@pytest.mark.parametrize("state", ["forged0000", "", None])
def test_a_forged_or_missing_state_is_refused_with_400(web, emulator, state):
    link = web.start_login().headers["Location"]
    back = web.wecom_confirms(link, "zhangsan")
    query = query_of(back)
    url = f"/login/callback?code={query['code']}" + ("" if state is None else f"&state={state}")
    answer = web.get(url)
    assert answer.status_code == 400
    assert "登录链接已失效" in answer.get_data(as_text=True)
    assert emulator.call_count("auth/getuserinfo", None) == 0  # the code was not even spent
    assert web.get("/audit").status_code == 302


def test_a_state_from_another_browser_is_refused(app, emulator):
    mine, theirs = WebActions(app, emulator), WebActions(app, emulator)
    mine.start_login()
    their_link = theirs.start_login().headers["Location"]
    back = urlsplit(theirs.wecom_confirms(their_link, "zhangsan"))
    assert mine.get(f"{back.path}?{back.query}").status_code == 400  # their state, my cookie
    assert mine.get("/").status_code == 302


def test_a_reused_code_gets_a_clear_page_not_a_500(web, app, emulator):
    link = web.start_login().headers["Location"]
    back = urlsplit(web.wecom_confirms(link, "zhangsan"))
    assert web.get(f"{back.path}?{back.query}").status_code == 302
    again = WebActions(app, emulator)  # an attacker replaying the code with a state of their own
    state = query_of(again.start_login().headers["Location"])["state"]
    answer = again.get(f"/login/callback?code={query_of(back.geturl())['code']}&state={state}")
    assert answer.status_code == 400
    assert "已经用过" in answer.get_data(as_text=True)
    assert emulator.call_count("auth/getuserinfo", 40029) == 1
    assert again.get("/").status_code == 302


def test_an_unknown_code_gets_the_same_page(web):
    state = query_of(web.start_login().headers["Location"])["state"]
    answer = web.get(f"/login/callback?code=madeup&state={state}")
    assert answer.status_code == 400 and "登录凭证无效" in answer.get_data(as_text=True)


def test_someone_outside_the_corp_is_refused(web, emulator):
    state = query_of(web.start_login().headers["Location"])["state"]
    code = oauth.issue_code(emulator, openid="oOutsider123")
    answer = web.get(f"/login/callback?code={code}&state={state}")
    assert answer.status_code == 403
    assert "通讯录里的成员" in answer.get_data(as_text=True)
    assert web.get("/").status_code == 302


def test_the_session_cookie_is_signed_httponly_and_lax(web):
    cookies = [web.start_login().headers.getlist("Set-Cookie")]
    link = web.start_login().headers["Location"]
    back = urlsplit(web.wecom_confirms(link, "zhangsan"))
    cookies.append(web.get(f"{back.path}?{back.query}").headers.getlist("Set-Cookie"))
    flat = [c for batch in cookies for c in batch]
    assert flat and all("HttpOnly" in c and "SameSite=Lax" in c for c in flat)
    assert not any("Secure" in c for c in flat)  # PUBLIC_URL unset: plain http works
    assert web.client.get_cookie("filingbot_session").value.count(".") == 2  # signed


def test_the_cookie_is_secure_under_an_https_public_url(app_env, clock, emulator):
    app = create_app({"ENV": {**app_env, "PUBLIC_URL": "https://filing.example.edu.cn"},
                      "CLOCK": clock, "OUTBOX_THREAD": False})
    web = WebActions(app, emulator)
    answer = web.client.get("/login", base_url="https://filing.example.edu.cn")
    assert all("Secure" in c and "HttpOnly" in c for c in answer.headers.getlist("Set-Cookie"))
    app.extensions["filingbot.engine"].dispose()


def test_a_tampered_cookie_sends_back_to_login(web):
    web.login_as("zhangsan")
    value = web.client.get_cookie("filingbot_session").value
    payload, rest = value.split(".", 1)
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    web.client.set_cookie("filingbot_session", f"{forged}.{rest}")
    answer = web.get("/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_a_session_ends_after_8_hours_by_the_app_clock(web, clock):
    web.login_as("zhangsan")
    clock.advance(hours=7, minutes=59)
    assert web.get("/").status_code == 200
    clock.advance(minutes=1, seconds=1)
    answer = web.get("/?x=1")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/?x%3D1"


def test_the_cookie_itself_lives_8_hours(web, app):
    assert app.permanent_session_lifetime.total_seconds() == 8 * 3600
    answer = web.login_as("zhangsan")
    assert "Expires=" in answer.headers["Set-Cookie"]


def test_a_page_without_a_session_redirects_to_login_with_next(web):
    answer = web.get("/audit?filing=3")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/audit?filing%3D3"


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)", "/login",
                                    "/%0d%0aSet-Cookie:x", "\\\\evil.example"])
def test_next_never_leaves_the_site(web, target):
    answer = web.login_as("zhangsan", target)
    location = answer.headers["Location"]
    assert location == "/" or (location.startswith("/") and not location.startswith("//")), \
        location
    assert "evil" not in location


@pytest.mark.parametrize("value,expected", [
    ("/audit?x=1", "/audit?x=1"), (None, "/"), ("", "/"), ("audit", "/"),
    ("//evil.example", "/"), ("/\\evil", "/"), ("https://evil.example", "/"),
    ("/a\r\nb", "/"), ("/logout", "/"), ("/login?next=//x", "/"),
])
def test_safe_next(value, expected):
    assert safe_next(value) == expected


def test_logout_needs_the_csrf_token_then_ends_the_session(web):
    web.login_as("zhangsan")
    assert web.post("/logout", {}, token_from=None).status_code == 400
    assert web.get("/").status_code == 200  # still signed in: nothing changed
    answer = web.post("/logout", {})
    assert answer.status_code == 200 and "你已退出登录" in answer.get_data(as_text=True)
    assert web.get("/").status_code == 302


def test_no_secret_token_or_code_reaches_a_page(web, emulator, grant):
    grant("sunqi", "admin")
    pages = []
    link = web.start_login("/admin/roles").headers["Location"]
    back = web.wecom_confirms(link, "sunqi")
    code = query_of(back)["code"]
    landing = web.get(f"{urlsplit(back).path}?{urlsplit(back).query}")
    assert code not in landing.headers["Location"]
    for path in ("/", "/admin/roles", "/audit", "/nope"):
        pages.append(web.get(path))
    pages.append(web.get(f"/login/callback?code={code}&state=x"))
    with emulator.engine.connect() as conn:
        access_tokens = list(conn.scalars(select(tokens.c.token)))
    assert access_tokens
    for page in pages:
        body = page.get_data(as_text=True)
        for secret in (SECRET, WEB_SECRET_KEY, code, *access_tokens):
            assert secret not in body


# --- sandbox: /login lists the demo users ---------------------------------------------------

def test_the_sandbox_lists_the_demo_users_and_signs_one_in(sandbox_app):
    client = sandbox_app.test_client()
    page = client.get("/login?next=/audit").get_data(as_text=True)
    for name in ("王五", "张三", "孙七"):
        assert name in page
    assert "党政办公室审批人" in page  # wangwu's granted role shown to pick by
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"userid": "wangwu", "next": "/audit",
                                         "csrf_token": token})
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/login/callback")
    answer = client.get(answer.headers["Location"])
    assert answer.status_code == 302 and answer.headers["Location"] == "/audit"
    assert "审计日志" in client.get("/audit").get_data(as_text=True)


def test_the_sandbox_picker_refuses_a_post_without_csrf(sandbox_app):
    client = sandbox_app.test_client()
    client.get("/login")
    assert client.post("/login", data={"userid": "wangwu"}).status_code == 400
    assert client.get("/").status_code == 302


def test_the_sandbox_picker_refuses_someone_not_in_the_directory(sandbox_app):
    client = sandbox_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"userid": "mallory", "csrf_token": token})
    assert answer.status_code == 400 and "没有成员" in answer.get_data(as_text=True)


def test_a_real_app_has_no_picker(web):
    web.login_as("zhangsan")
    answer = web.post("/login", {"userid": "wangwu"})  # a valid token, but nothing to post to
    assert answer.status_code == 404 and "找不到页面" in answer.get_data(as_text=True)
    assert "你好，张三" in web.get("/").get_data(as_text=True)
