"""WebActions: use the web pages as a member would, through WeCom's login played by the emulator.

    web.login_as("wangwu")                  # /login → WeCom's link → emulator → /login/callback
    web.get("/audit").status_code
    web.post("/admin/roles/grant", {...})   # with the page's CSRF token
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from bot.wecom.emulator import create_emulator_app

DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36"
WXWORK_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def query_of(url: str) -> dict:
    """The query of `url` as single values."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


class WebActions:
    """A browser (Flask's test client, keeping cookies) and WeCom's login pages (the emulator)."""

    def __init__(self, app, emulator):
        self.app = app
        self.client = app.test_client()
        self.wecom = create_emulator_app(emulator).test_client()

    def start_login(self, next_path: str | None = None, user_agent: str = DESKTOP_UA):
        """GET /login (?next=…): the 302 towards WeCom."""
        url = "/login" if next_path is None else "/login?next=" + next_path
        return self.client.get(url, headers={"User-Agent": user_agent})

    def wecom_confirms(self, link: str, userid: str) -> str:
        """Open WeCom's link (served by the emulator) as `userid`; where WeCom sends back to."""
        parts = urlsplit(link)
        answer = self.wecom.get(f"{parts.path}?{parts.query}&userid={userid}")
        assert answer.status_code == 302, answer.get_data(as_text=True)
        return answer.headers["Location"]

    def login_as(self, userid: str, next_path: str | None = None,
                 user_agent: str = DESKTOP_UA):
        """The whole dance, from a browser without a session (switching users signs out first);
        returns the callback's response (302 to `next` on success)."""
        self.client.delete_cookie("filingbot_session")
        link = self.start_login(next_path, user_agent).headers["Location"]
        back = urlsplit(self.wecom_confirms(link, userid))
        return self.client.get(f"{back.path}?{back.query}")

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def csrf_token(self, page: str = "/") -> str:
        """The CSRF token a page of this session carries."""
        match = CSRF_RE.search(self.client.get(page).get_data(as_text=True))
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def post(self, path: str, data: dict, token_from: str | None = "/", **kwargs):
        """POST a form with the CSRF token of `token_from` (None: without a token)."""
        data = dict(data)
        if token_from is not None:
            data["csrf_token"] = self.csrf_token(token_from)
        return self.client.post(path, data=data, **kwargs)
