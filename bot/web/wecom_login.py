"""WeCom's side of the login (WECOM.md §7A): the two authorize links and the code exchange.

- 构造网页授权链接 (developer.work.weixin.qq.com/document/path/91022): inside WeCom's in-app
  browser, silent `snsapi_base`;
- 构造企业微信登录链接 (document/path/98151, Web登录; third-party edition 98171): any other
  browser, QR code or the running desktop client, `login_type=CorpApp`;
- 获取访问用户身份 (document/path/91023; 代开发 edition 96442 carries the same text):
  `GET auth/getuserinfo?access_token=…&code=…` → `userid` for a member, `openid` for anyone
  else; a used, expired or unknown code → errcode 40029.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import requests
from wechatpy.exceptions import WeChatClientException

OAUTH_AUTHORIZE = "https://open.weixin.qq.com/connect/oauth2/authorize"
WEB_LOGIN = "https://login.work.weixin.qq.com/wwlogin/sso/login"
INVALID_CODE = 40029
MAX_CODE = 512  # "code … 最大为512字节"

log = logging.getLogger(__name__)


class LoginRefused(Exception):
    """The code did not give a member: `reason` names why (the page says it in Chinese)."""

    def __init__(self, reason: str, status: int, errcode: int | None = None):
        super().__init__(reason)
        self.reason, self.status, self.errcode = reason, status, errcode


def in_wecom(user_agent: str) -> bool:
    """Whether the request comes from WeCom's in-app browser (its User-Agent says `wxwork`)."""
    return "wxwork" in user_agent.lower()


def authorize_link(*, corp_id: str, agent_id: int, redirect_uri: str, state: str,
                   inside_wecom: bool) -> str:
    """The link that sends the member to WeCom and back to `redirect_uri?code=…&state=…`."""
    if inside_wecom:
        query = urlencode({"appid": corp_id, "redirect_uri": redirect_uri,
                           "response_type": "code", "scope": "snsapi_base", "state": state,
                           "agentid": agent_id})
        return f"{OAUTH_AUTHORIZE}?{query}#wechat_redirect"
    query = urlencode({"login_type": "CorpApp", "appid": corp_id, "agentid": agent_id,
                       "redirect_uri": redirect_uri, "state": state})
    return f"{WEB_LOGIN}?{query}"


def exchange_code(client, code: str) -> str:
    """Spend `code` with auth/getuserinfo and return the member's userid.

    Raises LoginRefused: 400 for an invalid or reused code, 403 for a non-member, 502 when
    WeCom cannot be asked. The code itself is never logged."""
    if not code or len(code.encode()) > MAX_CODE:
        raise LoginRefused("invalid_code", 400)
    try:
        answer = client.get("auth/getuserinfo", params={"code": code})
    except WeChatClientException as exc:
        errcode = _int(exc.errcode)
        log.warning("auth/getuserinfo refused the login: errcode %s", errcode)
        if errcode == INVALID_CODE:
            raise LoginRefused("invalid_code", 400, errcode) from None
        raise LoginRefused("wecom_error", 502, errcode) from None
    except requests.RequestException as exc:
        log.warning("auth/getuserinfo unreachable: %s", type(exc).__name__)
        raise LoginRefused("wecom_down", 502) from None
    userid = answer.get("userid") or answer.get("UserId")
    if not userid:
        raise LoginRefused("not_member", 403)  # an openid: someone outside the corp
    return str(userid)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
