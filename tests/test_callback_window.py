"""Issue 15 item 7: a callback signed outside CALLBACK_WINDOW (default 24 h back, 5 min ahead)
is refused with 403 and a log line before anything is written, so a captured callback cannot
be replayed once its dedup key is pruned."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import xmltodict
from sqlalchemy import func, select
from sqlmodel import Session
from wechatpy.enterprise.crypto import WeChatCrypto

from bot import create_app
from bot.config import ConfigError, load_settings
from bot.outbox import prune
from bot.wecom.emulator.phone import Phone, flask_target
from models import InboundEvent, OutboxMessage, User
from tests.wecom import AES_KEY, CORP_ID, TOKEN


def written(app) -> tuple[int, int, int]:
    """Rows a callback could have written: inbound keys, outbox messages, users met."""
    with Session(app.extensions["filingbot.engine"]) as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (InboundEvent, OutboxMessage, User))


def signed_at(phone, clock, userid: str, text: str, **shift):
    """A text callback as WeCom signed it at clock time + shift; the clock is set back after."""
    clock.advance(**shift)
    query, body = phone.encrypt(
        f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>{userid}</FromUserName>"
        f"<CreateTime>{int(clock.now().timestamp())}</CreateTime><MsgType>text</MsgType>"
        f"<Content>{text}</Content><MsgId>{secrets.randbits(63)}</MsgId>"
        "<AgentID>1000002</AgentID></xml>")
    clock.advance(**{k: -v for k, v in shift.items()})
    return query, body


def test_item7_a_captured_callback_replayed_after_its_key_was_pruned_is_refused(
        app, wecom, clock, caplog):
    first = wecom.as_user("zhangsan").say("帮助")
    assert first.status == 200
    clock.advance(days=8)
    prune(app.extensions["filingbot.engine"], clock.now())  # the dedup key is gone
    before = written(app)
    assert before[0] == 0
    with caplog.at_level(logging.WARNING, logger="bot.wecom.callback"):
        again = wecom.phone.redeliver("zhangsan", first.query, first.body)
    assert again.status == 403
    assert written(app) == before
    assert any("replayed or delayed" in r.getMessage() and "old" in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("shift,status", [
    ({"hours": -23}, 200),
    ({"hours": -25}, 403),
    ({"days": -8}, 403),
    ({"minutes": 4}, 200),
    ({"minutes": 6}, 403),
    ({"days": 365}, 403),
])
def test_item7_the_default_window_is_a_day_back_and_five_minutes_ahead(
        app, wecom, clock, shift, status):
    wecom.as_user("zhangsan").say("帮助")  # zhangsan is known: only the window decides
    before = written(app)
    query, body = signed_at(wecom.phone, clock, "zhangsan", "帮助", **shift)
    assert wecom.phone.redeliver("zhangsan", query, body).status == status
    if status == 403:
        assert written(app) == before
    else:
        assert written(app)[0] == before[0] + 1


def test_item7_the_window_is_configurable(app_env, clock, emulator):
    app = create_app({"ENV": {**app_env, "CALLBACK_WINDOW": "2d,1m"}, "CLOCK": clock,
                      "OUTBOX_THREAD": False})
    phone = Phone(emulator, flask_target(app))
    assert phone.redeliver("lisi", *signed_at(phone, clock, "lisi", "帮助", hours=-30)).status \
        == 200  # 30 h back: inside 2 days
    assert phone.redeliver("lisi", *signed_at(phone, clock, "lisi", "帮助", minutes=2)).status \
        == 403  # 2 min ahead: outside 1 minute
    app.extensions["filingbot.engine"].dispose()


def test_item7_a_stale_url_check_is_refused_too(app, clock):
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    old = str(int((clock.now() - timedelta(days=3)).timestamp()))
    parsed = xmltodict.parse(crypto.encrypt_message("echo-me", "n1", old))["xml"]
    query = {"msg_signature": parsed["MsgSignature"], "timestamp": old, "nonce": "n1",
             "echostr": parsed["Encrypt"]}
    assert app.test_client().get("/wecom/callback?" + urlencode(query)).status_code == 403
    fresh = str(int(clock.now().timestamp()))
    parsed = xmltodict.parse(crypto.encrypt_message("echo-me", "n1", fresh))["xml"]
    query = {"msg_signature": parsed["MsgSignature"], "timestamp": fresh, "nonce": "n1",
             "echostr": parsed["Encrypt"]}
    response = app.test_client().get("/wecom/callback?" + urlencode(query))
    assert response.status_code == 200 and response.get_data(as_text=True) == "echo-me"


@pytest.mark.parametrize("value", ["8d,5m", "24h", "24h,2h", "yesterday", "0s,5m"])
def test_item7_a_window_longer_than_dedup_retention_stops_the_app(tmp_path, value):
    with pytest.raises(ConfigError, match="CALLBACK_WINDOW"):
        load_settings({"CALLBACK_WINDOW": value}, tmp_path)
