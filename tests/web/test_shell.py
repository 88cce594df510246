"""The page shell: nav by role, Chinese error pages without internals, CSRF everywhere,
the callback and /healthz untouched, WeUI served."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError


def test_nav_shows_what_the_role_may_open(web, grant):
    grant("sunqi", "admin")
    web.login_as("zhangsan")
    page = web.get("/").get_data(as_text=True)
    assert "张三" in page and "退出" in page
    assert "审计日志" not in page and "角色管理" not in page
    web.login_as("sunqi")
    page = web.get("/").get_data(as_text=True)
    assert "审计日志" in page and "角色管理" in page


def test_the_page_uses_the_vendored_weui(web):
    web.login_as("zhangsan")
    page = web.get("/").get_data(as_text=True)
    assert "/static/weui/weui-2.6.26.min.css" in page
    assert 'name="viewport"' in page and 'lang="zh-CN"' in page
    css = web.get("/static/weui/weui-2.6.26.min.css")
    assert css.status_code == 200 and b"WeUI v2.6.26" in css.data and b"MIT" in css.data
    css.close()


def test_an_unknown_page_is_a_chinese_404(web):
    answer = web.get("/no/such/page")
    assert answer.status_code == 404
    assert "找不到页面" in answer.get_data(as_text=True)


def test_a_wrong_method_is_a_chinese_405(web):
    answer = web.get("/logout")
    assert answer.status_code == 405 and "不支持这种访问方式" in answer.get_data(as_text=True)


def test_a_crash_is_a_chinese_500_without_internals(web, app, monkeypatch):
    web.login_as("zhangsan")
    from bot.web import users

    def broken(*args, **kwargs):
        raise OperationalError("SELECT secret FROM x", {}, Exception("password=hunter2"))

    monkeypatch.setattr(users, "load_user", broken)
    answer = web.get("/")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 500 and "服务器出错了" in body
    for leak in ("Traceback", "SELECT", "hunter2", "OperationalError"):
        assert leak not in body


def test_csrf_covers_every_post_route_of_the_pages(app, web, grant):
    grant("sunqi", "admin")
    web.login_as("sunqi")
    posts = [r.rule for r in app.url_map.iter_rules()
             if "POST" in r.methods and not r.rule.startswith("/wecom/")]
    assert set(posts) >= {"/logout", "/admin/roles/grant", "/admin/roles/revoke"}
    for rule in posts:
        answer = web.post(rule, {"userid": "sunqi", "role": "office"}, token_from=None)
        assert answer.status_code == 400, rule
        assert "操作没有执行" in answer.get_data(as_text=True)


def test_the_callback_keeps_its_plain_answers(web):
    answer = web.client.post("/wecom/callback?msg_signature=x&timestamp=1&nonce=n", data=b"<xml/>")
    assert answer.status_code in (400, 403)
    assert "操作没有执行" not in answer.get_data(as_text=True)  # not refused by CSRF either
    assert web.get("/healthz").get_json() == {"status": "ok", "database": "ok"}


def test_pages_are_not_cached_and_not_framed(web):
    web.login_as("zhangsan")
    answer = web.get("/")
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("line", [
    '127.0.0.1 - - "GET /login/callback?code=SECRETCODE&state=STATE1 HTTP/1.1" 302 -',
    "GET /cgi-bin/gettoken?corpid=ww&corpsecret=SECRETCODE",
    "GET /cgi-bin/auth/getuserinfo?access_token=SECRETCODE&code=SECRETCODE",
])
def test_request_logs_hide_codes_and_tokens(line):
    from bot.web.logs import redact

    assert "SECRETCODE" not in redact(line) and "STATE1" not in redact(line)


def test_the_console_domain_check_file_is_served_from_the_instance_folder(sandbox_app):
    from pathlib import Path

    (Path(sandbox_app.instance_path) / "WW_verify_Test123abc.txt").write_text("Test123abc")
    client = sandbox_app.test_client()
    answer = client.get("/WW_verify_Test123abc.txt")
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "Test123abc"
    answer.close()
    assert client.get("/WW_verify_Missing1.txt").status_code == 404
    assert client.get("/secret_key").status_code == 404
    assert client.get("/WW_verify_..%2Fsecret_key.txt").status_code == 404
