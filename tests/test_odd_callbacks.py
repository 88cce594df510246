"""Issue 15 item 9: odd but validly signed input is answered with 400 or a plain reply, never a
500 (which WeCom would retry three times), on SQLite and PostgreSQL alike; messages without a
MsgId are keyed by their content, not all by `msg:0`."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from bot.wecom.emulator.phone import cdata
from models import InboundEvent, OutboxMessage
from tests.wecom import AGENT_ID, CORP_ID


def inner(clock, userid="zhangsan", *, msgtype="text", extra="", msgid="<MsgId>91</MsgId>",
          create_time=None) -> str:
    """The decrypted XML of a callback, with the fields a test wants to be odd."""
    create_time = create_time or str(int(clock.now().timestamp()))
    return (f"<xml><ToUserName>{cdata(CORP_ID)}</ToUserName>"
            f"<FromUserName>{cdata(userid)}</FromUserName><CreateTime>{create_time}</CreateTime>"
            f"<MsgType>{cdata(msgtype)}</MsgType>{extra}{msgid}<AgentID>{AGENT_ID}</AgentID></xml>")


def text(content: str) -> str:
    return f"<Content>{cdata(content)}</Content>"


def inbound_keys(app) -> list[str]:
    with Session(app.extensions["filingbot.engine"]) as session:
        return list(session.scalars(select(InboundEvent.dedup_key).order_by(InboundEvent.id)))


def outbox_count(app) -> int:
    with Session(app.extensions["filingbot.engine"]) as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage))


@pytest.mark.parametrize("name,userid,msgid,create_time", [
    ("MsgId with letters", "zhangsan", "<MsgId>12ab</MsgId>", None),
    ("MsgId negative", "zhangsan", "<MsgId>-5</MsgId>", None),
    ("MsgId over 64 bits", "zhangsan", "<MsgId>" + "9" * 25 + "</MsgId>", None),
    ("MsgId with nested XML", "zhangsan", "<MsgId><a>1</a></MsgId>", None),
    ("CreateTime not a number", "zhangsan", "<MsgId>91</MsgId>", "yesterday"),
    ("userid of 65 characters", "u" * 65, "<MsgId>91</MsgId>", None),
    ("userid with a line break", "zhang\nsan", "<MsgId>91</MsgId>", None),
])
def test_item9_junk_fields_get_400_and_write_nothing(app, wecom, clock, name, userid, msgid,
                                                    create_time):
    delivery = wecom.phone.post("zhangsan", inner(clock, userid, extra=text("帮助"), msgid=msgid,
                                                  create_time=create_time))
    assert delivery.status == 400, name
    assert inbound_keys(app) == [] and outbox_count(app) == 0


def test_item9_a_userid_of_64_characters_fits_every_column(app, wecom, clock):
    userid = "u" * 64  # WeCom's longest UserID (error code 40003, doc 90313)
    delivery = wecom.phone.post(userid, inner(clock, userid, extra=text("帮助")))
    assert delivery.status == 200 and delivery.text
    assert inbound_keys(app) == ["msg:91"]


def test_item9_a_menu_view_event_with_a_long_url_is_keyed_by_a_hash(app, wecom, clock):
    url = "https://example.edu.cn/page?" + "q=x&" * 600  # a view event's EventKey is its URL
    event = inner(clock, msgtype="event", msgid="",
                  extra=f"<Event>{cdata('view')}</Event><EventKey>{cdata(url)}</EventKey>")
    first = wecom.phone.post("zhangsan", event)
    assert first.status == 200
    again = wecom.phone.redeliver("zhangsan", first.query, first.body)
    assert again.status == 200 and again.reply == first.reply  # the stored answer
    [key] = inbound_keys(app)
    assert key.startswith("evt#") and len(key) <= 255


def test_item9_messages_without_msgid_are_keyed_by_their_content(app, wecom, clock):
    first = wecom.phone.post("zhangsan", inner(clock, extra=text("帮助"), msgid=""))
    second = wecom.phone.post("zhangsan", inner(clock, extra=text("你好呀"), msgid=""))
    assert first.status == second.status == 200
    assert "你好呀" in second.text  # its own answer, not the stored answer to 帮助
    assert first.text != second.text
    keys = inbound_keys(app)
    assert len(keys) == 2 and "msg:0" not in keys and all(k.startswith("msg#") for k in keys)
    retry = wecom.phone.redeliver("zhangsan", second.query, second.body)
    assert retry.text == second.text and len(inbound_keys(app)) == 2
