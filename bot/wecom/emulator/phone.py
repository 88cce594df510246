"""The member's side of the emulator: what WeCom posts to the app's callback URL when a member
types a message or taps a card button, and what it does with the app's passive reply.

Protocol: 接收消息与事件 (doc 90238/96466), 加解密方案 (doc 90968/91144),
消息格式 (doc 90239), 模板卡片事件推送 (doc 90240), 被动回复 (doc 90241).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlencode

import requests
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.wecom.emulator.cards import button_keys
from bot.wecom.emulator.core import Emulator

# deliver(query params, body bytes) -> (HTTP status, response body bytes)
Deliver = Callable[[dict, bytes], tuple[int, bytes]]


def cdata(value) -> str:
    """Wrap text in CDATA, splitting any `]]>` inside it."""
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def flask_target(app) -> Deliver:
    """Deliver callbacks to a Flask app in-process, through its full WSGI stack."""
    client = app.test_client()

    def deliver(query: dict, body: bytes) -> tuple[int, bytes]:
        response = client.post("/wecom/callback?" + urlencode(query), data=body,
                               content_type="text/xml")
        return response.status_code, response.get_data()

    return deliver


def http_target(url: str, timeout: float = 10) -> Deliver:
    """Deliver callbacks over HTTP, as WeCom does."""
    session = requests.Session()

    def deliver(query: dict, body: bytes) -> tuple[int, bytes]:
        response = session.post(url, params=query, data=body, timeout=timeout,
                                headers={"Content-Type": "text/xml"})
        return response.status_code, response.content

    return deliver


@dataclass
class Delivery:
    """One callback as posted, and what came back."""

    query: dict
    body: bytes
    status: int
    response: bytes
    reply: dict | None  # the decrypted passive reply, or None for an empty 200

    @property
    def text(self) -> str | None:
        """Content of a passive text reply."""
        return (self.reply.get("Content")
                if self.reply and self.reply.get("MsgType") == "text" else None)


class Phone:
    """Members of the emulated corp talking to the app."""

    def __init__(self, emulator: Emulator, deliver: Deliver):
        self.emulator = emulator
        self.deliver = deliver
        self.crypto = WeChatCrypto(emulator.token, emulator.aes_key, emulator.corp_id)

    def say(self, userid: str, text: str) -> Delivery:
        """`userid` types `text` in the app's chat."""
        now = int(self.emulator.clock())
        inner = (
            f"<xml><ToUserName>{cdata(self.emulator.corp_id)}</ToUserName>"
            f"<FromUserName>{cdata(userid)}</FromUserName><CreateTime>{now}</CreateTime>"
            f"<MsgType>{cdata('text')}</MsgType><Content>{cdata(text)}</Content>"
            f"<MsgId>{secrets.randbits(63)}</MsgId><AgentID>{self.emulator.agent_id}</AgentID></xml>"
        )
        return self.post(userid, inner)

    def tap(self, userid: str, task_id: str, key: str) -> Delivery:
        """`userid` taps the button `key` on the card `task_id`, as WeCom reports it."""
        query, body = self.prepare_tap(userid, task_id, key)
        return self.redeliver(userid, query, body, task_id=task_id)

    def prepare_tap(self, userid: str, task_id: str, key: str) -> tuple[dict, bytes]:
        """The callback of a tap, built now and posted later (taps made at the same moment
        on several phones, before any card update reached them)."""
        view = self.emulator.card_view(task_id, userid)
        if view is None:
            raise LookupError(f"{userid} never received card {task_id}")
        if view["replace_name"]:
            raise LookupError(f"card {task_id} of {userid} is greyed out: {view['replace_name']}")
        if key not in button_keys(view["card"]):
            raise LookupError(f"card {task_id} has no button {key}")
        code = self.emulator.click_code(task_id, userid)
        now = int(self.emulator.clock())
        inner = (
            f"<xml><ToUserName>{cdata(self.emulator.corp_id)}</ToUserName>"
            f"<FromUserName>{cdata(userid)}</FromUserName><CreateTime>{now}</CreateTime>"
            f"<MsgType>{cdata('event')}</MsgType><Event>{cdata('template_card_event')}</Event>"
            f"<EventKey>{cdata(key)}</EventKey><TaskId>{cdata(task_id)}</TaskId>"
            f"<CardType>{cdata(view['card']['card_type'])}</CardType>"
            f"<ResponseCode>{cdata(code)}</ResponseCode>"
            f"<AgentID>{self.emulator.agent_id}</AgentID></xml>"
        )
        return self.encrypt(inner)

    def post(self, userid: str, inner_xml: str, task_id: str | None = None) -> Delivery:
        """Encrypt `inner_xml`, post it to the app, and show its passive reply on the phone."""
        query, body = self.encrypt(inner_xml)
        return self.redeliver(userid, query, body, task_id=task_id)

    def encrypt(self, inner_xml: str) -> tuple[dict, bytes]:
        """The query parameters and body WeCom posts for `inner_xml`."""
        # WeCom signs with its own clock: the emulator's (movable in tests, like the app's).
        nonce, timestamp = secrets.token_hex(8), str(int(self.emulator.clock()))
        envelope = xmltodict.parse(self.crypto.encrypt_message(inner_xml, nonce, timestamp))["xml"]
        body = (
            f"<xml><ToUserName>{cdata(self.emulator.corp_id)}</ToUserName>"
            f"<Encrypt>{cdata(envelope['Encrypt'])}</Encrypt>"
            f"<AgentID>{cdata(self.emulator.agent_id)}</AgentID></xml>"
        ).encode()
        query = {"msg_signature": envelope["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
        return query, body

    def redeliver(self, userid: str, query: dict, body: bytes,
                  task_id: str | None = None) -> Delivery:
        """Post a callback (again, as WeCom's retry does) and record the passive reply."""
        status, response = self.deliver(query, body)
        reply = None
        if status == 200 and response.strip():
            envelope = xmltodict.parse(response)["xml"]
            plain = self.crypto.decrypt_message(
                response, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
            )
            reply = xmltodict.parse(plain)["xml"]
            self._show(userid, reply, task_id)
        return Delivery(query, body, status, response, reply)

    def _show(self, userid: str, reply: dict, task_id: str | None) -> None:
        msgtype = reply.get("MsgType")
        if msgtype == "text":
            self.emulator.record_passive(userid, "text", {"content": reply.get("Content") or ""})
        elif msgtype == "update_button" and task_id:
            self.emulator.grey_button(task_id, userid, reply["Button"]["ReplaceName"])
        else:
            self.emulator.record_passive(userid, msgtype or "unknown", reply)
