"""The WeCom API client: wechatpy's WeChatClient plus what 1.8.18 lacks.

- gettoken through WECOM_API_BASE (wechatpy hard-codes qyapi.weixin.qq.com for it);
- the access token cached in the database, shared by all workers;
- one refresh-and-retry on 40014/42001 (wechatpy's own auto-retry recurses without limit);
- message/update_template_card (doc 94888, third-party copy 94945).
"""

from __future__ import annotations

import threading

from wechatpy.client.api.base import BaseWeChatAPI
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.wecom.token_store import DatabaseTokenStorage

TOKEN_ERRORS = (40014, 42001)  # invalid / expired access_token (global error codes, doc 90313)


class TemplateCardAPI(BaseWeChatAPI):
    """template_card sending and updating (发送应用消息 90236, 更新模版卡片消息 94888)."""

    def send(self, agent_id: int, touser: list[str], card: dict, **options) -> dict:
        """Send a template_card to up to 1000 users; the reply carries msgid and response_code."""
        data = {"touser": "|".join(touser), "msgtype": "template_card", "agentid": agent_id,
                "template_card": card, **options}
        return self._post("message/send", data=data)

    def update(self, agent_id: int, response_code: str, *, userids=None, atall=False,
               replace_name: str | None = None, card: dict | None = None) -> dict:
        """Update a sent card for `userids` or all its recipients.

        Either grey button text or a new card.
        """
        data = {"agentid": agent_id, "response_code": response_code}
        if atall:
            data["atall"] = 1
        else:
            data["userids"] = list(userids or [])
        if card is not None:
            data["template_card"] = card
        else:
            data["button"] = {"replace_name": replace_name or ""}
        return self._post("message/update_template_card", data=data)


class BotClient(WeChatClient):
    """WeChatClient with our API base, database token cache and template card API."""

    card = TemplateCardAPI()
    _refresh_lock = threading.Lock()

    def __init__(self, *, corp_id: str, secret: str, agent_id: int, api_base: str, engine,
                 timeout: float = 10):
        self.API_BASE_URL = api_base
        self.agent_id = agent_id
        super().__init__(corp_id, secret, session=DatabaseTokenStorage(engine), timeout=timeout,
                         auto_retry=False)

    def mount(self, prefix: str, adapter) -> None:
        """Send the requests for URLs starting with `prefix` through a requests transport
        adapter (the sandbox's in-process emulator). wechatpy keeps its requests.Session in
        `_http` and offers no public hook for a transport; this is the one place we use it."""
        self._http.mount(prefix, adapter)

    def fetch_access_token(self):
        """gettoken through our API base (doc 91039), one fetch at a time per process."""
        with self._refresh_lock:
            return self._fetch_access_token(
                url=self.API_BASE_URL + "gettoken",
                params={"corpid": self.corp_id, "corpsecret": self.secret},
            )

    def _request(self, method, url_or_endpoint, **kwargs):
        try:
            return super()._request(method, url_or_endpoint, **_copy_params(kwargs))
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
        # The shared token went stale (WeCom may revoke it early): drop it, fetch, retry once.
        self.session.delete(self.access_token_key)
        self.fetch_access_token()
        return super()._request(method, url_or_endpoint, **_copy_params(kwargs))

    def send_message(self, payload: dict) -> dict:
        """POST message/send with `payload` (agentid added): text, markdown or template_card."""
        return self.post("message/send", data={"agentid": self.agent_id, **payload})

    def __repr__(self) -> str:
        return f"BotClient(corp_id={self.corp_id!r}, api_base={self.API_BASE_URL!r})"


def _copy_params(kwargs: dict) -> dict:
    """Fresh params each try, so a stale access_token from the first try is not reused."""
    copied = dict(kwargs)
    params = dict(copied.get("params") or {})
    params.pop("access_token", None)
    copied["params"] = params
    return copied
