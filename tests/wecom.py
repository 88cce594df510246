"""WeComActions: drive the bot as WeCom does, through the emulator, with real encryption.

    wecom.as_user("zhangsan").say("帮助").text   # the passive reply
    wecom.drain(); wecom.texts("zhangsan")        # what reached the user's phone
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from werkzeug.serving import WSGIRequestHandler, make_server

from bot.wecom.emulator import Emulator, Phone, create_emulator_app, flask_target

CORP_ID = "wwtestcorp0001"
AGENT_ID = 1000002
SECRET = "test-secret-0123456789"
TOKEN = "testToken123"
AES_KEY = "k8Tq3Zp1Lm9Xc7Vb5Nn2Ws4Ed6Rf0Gh8Jy3Ui5Oa1SQ"
WEB_SECRET_KEY = "test-web-secret-key-0123456789abcdef"  # SECRET_KEY: signs web sessions


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # URLs carry access tokens: keep them out of logs
        pass


class EmulatorServer:
    """The emulator's API over real HTTP on a free local port; it can go down and come back."""

    def __init__(self, emulator: Emulator):
        self.emulator = emulator
        self.app = create_emulator_app(emulator)
        self.port = 0
        self.server = None
        self.start()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/"

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True,
                                  request_handler=QuietHandler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@dataclass
class UserActions:
    wecom: "WeComActions"
    userid: str

    def say(self, text: str):
        """Type `text` in the app's chat; returns the Delivery (status, passive reply)."""
        return self.wecom.phone.say(self.userid, text)

    def tap(self, task_id: str, key: str):
        return self.wecom.phone.tap(self.userid, task_id, key)


class WeComActions:
    def __init__(self, app, emulator: Emulator):
        self.app = app
        self.emulator = emulator
        self.phone = Phone(emulator, flask_target(app))

    def as_user(self, userid: str) -> UserActions:
        return UserActions(self, userid)

    def drain(self) -> dict:
        """Run the outbox dispatcher until nothing is due."""
        return self.app.extensions["filingbot.dispatcher"].drain()

    def inbox(self, userid: str) -> list[dict]:
        return self.emulator.inbox(userid)

    def messages(self, userid: str) -> list[str]:
        """Everything that reached `userid` as text; a card flattened to its visible text."""
        shown = []
        for m in self.emulator.inbox(userid):
            body = m["body"]
            if m["msgtype"] == "template_card":
                rows = [f"{r.get('keyname')}：{r.get('value')}"
                        for r in body.get("horizontal_content_list", [])]
                shown.append("\n".join([body.get("main_title", {}).get("title", ""),
                                        body.get("main_title", {}).get("desc", ""),
                                        body.get("sub_title_text", ""), *rows]))
            else:
                shown.append(body.get("content", ""))
        return shown

    def texts(self, userid: str) -> list[str]:
        """Text contents that reached `userid`, passive replies and sent messages alike."""
        return [m["body"]["content"] for m in self.emulator.inbox(userid)
                if m["msgtype"] in ("text", "markdown")]


def say(wecom: WeComActions, userid: str, *lines: str) -> str | None:
    """`userid` says each line in turn (the outbox delivered after each); the last passive reply."""
    reply = None
    for line in lines:
        reply = wecom.as_user(userid).say(line).text
        wecom.drain()
    return reply


def sync_and_grant(runner, grants) -> None:
    """`directory sync`, then `roles grant` for each (userid, role)."""
    assert runner.invoke(args=["directory", "sync"]).exit_code == 0
    for userid, role in grants:
        assert runner.invoke(args=["roles", "grant", userid, role]).exit_code == 0


# Every role the approval tests grant: two office approvers, publicity, two tech, the admin.
EVERY_ROLE = [("wangwu", "office"), ("zhaoliu", "office"), ("zhouba", "publicity"),
              ("zhengshi", "tech"), ("chenyi", "tech"), ("sunqi", "admin")]


def chat(wecom: WeComActions, userid: str, *lines: str) -> str | None:
    """Say each line in turn (each answered 200); return the last passive reply text."""
    reply = None
    for line in lines:
        delivery = wecom.as_user(userid).say(line)
        assert delivery.status == 200
        reply = delivery.text
    return reply


def cards(wecom: WeComActions, userid: str) -> list[dict]:
    """The template cards that reached `userid`, oldest first."""
    return [m for m in wecom.inbox(userid) if m["msgtype"] == "template_card"]


def tap(wecom: WeComActions, userid: str, text: str, card: dict | None = None):
    """Tap the button labelled `text` on the user's latest card (or `card`); the outbox is
    drained after it. Returns the tap's callback delivery."""
    card = card or cards(wecom, userid)[-1]
    key = next(b["key"] for b in card["body"]["button_list"] if b["text"] == text)
    delivery = wecom.as_user(userid).tap(card["task_id"], key)
    wecom.drain()
    return delivery
