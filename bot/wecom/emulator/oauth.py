"""The emulator's side of web login (身份验证): the two authorize links and auth/getuserinfo.

- 构造网页授权链接, inside WeCom's in-app browser (doc 91022; 代开发 copy 96441):
  `open.weixin.qq.com/connect/oauth2/authorize?appid=CORPID&redirect_uri=…&response_type=code
  &scope=snsapi_base&state=STATE&agentid=AGENTID#wechat_redirect`;
- 构造企业微信登录链接, any other browser (doc 98151; third-party copy 98171):
  `login.work.weixin.qq.com/wwlogin/sso/login?login_type=CorpApp&appid=CORPID&agentid=AGENTID
  &redirect_uri=…&state=STATE`;
- both land on `redirect_uri?code=CODE&state=STATE`, and 获取访问用户身份 (doc 91023; copies 96442,
  98177) `GET /cgi-bin/auth/getuserinfo?access_token=…&code=CODE` answers `userid` for a member,
  `openid` for anyone else. "code只能使用一次，5分钟未被使用自动过期": a used, expired or unknown
  code → `{"errcode": 40029, "errmsg": "invalid code"}`.

Where WeCom knows who holds the phone, the emulator shows a page to pick a demo user (a person),
or takes `userid=` (or `openid=`) in the query (a test)."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import redirect, render_template, request
from sqlalchemy import insert, select, update

from bot.wecom.emulator import directory
from bot.wecom.emulator.core import ApiError, Emulator
from bot.wecom.emulator.store import oauth_codes

CODE_TTL = 300  # seconds: "5分钟未被使用自动过期"
STATE_RE = re.compile(r"[A-Za-z0-9]{0,128}")  # "a-zA-Z0-9的参数值，长度不可超过128个字节"
SCOPES = ("snsapi_base", "snsapi_privateinfo")


class LinkError(Exception):
    """An authorize link WeCom would refuse with an error page; `key` names the reason."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def issue_code(emulator: Emulator, userid: str | None = None, openid: str | None = None) -> str:
    """A fresh single-use code for a member (`userid`) or an outsider (`openid`)."""
    code = secrets.token_urlsafe(32)
    with emulator.engine.begin() as conn:
        conn.execute(insert(oauth_codes).values(code=code, userid=userid, openid=openid,
                                                created_at=emulator.clock()))
    return code


def get_user_info(emulator: Emulator, code: str) -> dict:
    """auth/getuserinfo: spend `code` once; 40029 when it is unknown, used or older than 5 min."""
    now = emulator.clock()
    with emulator.engine.begin() as conn:
        row = conn.execute(select(oauth_codes).where(oauth_codes.c.code == code)).first()
        if row is None or row.created_at + CODE_TTL <= now:
            raise ApiError(40029, "invalid code")
        spent = conn.execute(update(oauth_codes).where(oauth_codes.c.code == code,
                                                       oauth_codes.c.used_at.is_(None))
                             .values(used_at=now)).rowcount
    if spent != 1:
        raise ApiError(40029, "invalid code")
    if row.userid:
        return {"userid": row.userid}
    return {"openid": row.openid}


def check_link(emulator: Emulator, args, *, web_login: bool) -> tuple[str, str]:
    """Validate an authorize link's parameters; returns (redirect_uri, state)."""
    if args.get("appid") != emulator.corp_id:
        raise LinkError("appid")
    if web_login:
        if args.get("login_type") != "CorpApp":
            raise LinkError("login_type")
        if args.get("agentid") != str(emulator.agent_id):
            raise LinkError("agentid")
    else:
        if args.get("response_type") != "code" or args.get("scope") not in SCOPES:
            raise LinkError("scope")
        agentid = args.get("agentid")
        if (agentid or args.get("scope") == "snsapi_privateinfo") \
                and agentid != str(emulator.agent_id):
            raise LinkError("agentid")
    redirect_uri = args.get("redirect_uri", "")
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LinkError("redirect_uri")
    if emulator.trusted_domain and parts.netloc != emulator.trusted_domain:
        raise LinkError("domain")  # redirect_uri需使用应用可信域名
    state = args.get("state", "")
    if not STATE_RE.fullmatch(state):
        raise LinkError("state")
    return redirect_uri, state


def landing(redirect_uri: str, code: str, state: str) -> str:
    """`redirect_uri?code=CODE&state=STATE`, keeping the redirect_uri's own query."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [("code", code), ("state", state)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def register(app, emulator: Emulator, answer) -> None:
    """Add the two authorize pages and auth/getuserinfo to the emulator's app."""

    def authorize(web_login: bool):
        try:
            redirect_uri, state = check_link(emulator, request.args, web_login=web_login)
        except LinkError as exc:
            return render_template("emulator/link_error.html", reason=exc.key), 400
        userid, openid = request.args.get("userid"), request.args.get("openid")
        if userid and directory.user_json(userid, emulator.users) is None:
            return render_template("emulator/link_error.html", reason="userid"), 400
        if userid or openid:
            code = issue_code(emulator, userid=userid, openid=None if userid else openid)
            return redirect(landing(redirect_uri, code, state), code=302)
        choices = [(uid, name, position, "&".join([request.query_string.decode(),
                                                    urlencode({"userid": uid})]))
                   for uid, name, position, _places in emulator.users]
        return render_template("emulator/authorize.html", choices=choices, web_login=web_login)

    @app.get("/connect/oauth2/authorize")
    def oauth2_authorize():
        return authorize(web_login=False)

    @app.get("/wwlogin/sso/login")
    def web_login():
        return authorize(web_login=True)

    @app.get("/cgi-bin/auth/getuserinfo")
    def auth_getuserinfo():
        return answer("auth/getuserinfo",
                      lambda: get_user_info(emulator, request.args.get("code", "")))
