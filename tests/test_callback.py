"""The callback endpoint: Tencent's sample vectors, replies, retries, and requests refused."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from urllib.parse import urlencode

import pytest
import xmltodict
from sqlalchemy import func, select, update
from sqlmodel import Session
from wechatpy.enterprise.crypto import WeChatCrypto

from bot import create_app
from bot.clock import SHANGHAI, FixedClock
from bot.render import render_text
from bot.wecom.emulator.phone import Phone, flask_target
from models import Conversation, InboundEvent, OutboxMessage, User
from tests.wecom import AES_KEY, CORP_ID, TOKEN

# Set A of WeCom's 加解密方案说明 "举例说明" and Tencent's Sample.py (doc 90968 / 91144).
VECTOR = {
    "token": "QDG6eK",
    "aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "corp_id": "wx5823bf96d3bd56c7",
    "get": {"msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "timestamp": "1409659589",
            "nonce": "263014780",
            "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="},  # noqa: E501
    "post": {"msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6", "timestamp": "1409659813",
             "nonce": "1372623149"},
    "encrypt": "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==",  # noqa: E501
}


# The test clock's time (conftest `clock`): callbacks signed then are fresh.
NOW = str(int(datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI).timestamp()))


@pytest.fixture
def vector_app(app_env):
    env = {**app_env, "WECOM_TOKEN": VECTOR["token"], "WECOM_AES_KEY": VECTOR["aes_key"],
           "WECOM_CORP_ID": VECTOR["corp_id"], "WECOM_AGENT_ID": "218"}
    # The vectors were signed in 2014: the app's clock is set to then, or they are stale.
    clock = FixedClock(datetime.fromtimestamp(int(VECTOR["post"]["timestamp"]), SHANGHAI))
    app = create_app({"ENV": env, "CLOCK": clock, "OUTBOX_THREAD": False})
    yield app
    app.extensions["filingbot.engine"].dispose()


def count(app, model) -> int:
    with Session(app.extensions["filingbot.engine"]) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_tencent_get_vector_answers_the_decrypted_echostr(vector_app):
    response = vector_app.test_client().get("/wecom/callback?" + urlencode(VECTOR["get"]))
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "1616140317555161061"


def test_tencent_post_vector_is_decrypted_and_answered(vector_app):
    body = (f"<xml><ToUserName><![CDATA[{VECTOR['corp_id']}]]></ToUserName>"
            f"<Encrypt><![CDATA[{VECTOR['encrypt']}]]></Encrypt>"
            "<AgentID><![CDATA[218]]></AgentID></xml>")
    response = vector_app.test_client().post(
        "/wecom/callback?" + urlencode(VECTOR["post"]), data=body)
    assert response.status_code == 200
    envelope = xmltodict.parse(response.get_data())["xml"]
    crypto = WeChatCrypto(VECTOR["token"], VECTOR["aes_key"], VECTOR["corp_id"])
    reply = xmltodict.parse(crypto.decrypt_message(
        response.get_data(), envelope["MsgSignature"], envelope["TimeStamp"],
        envelope["Nonce"]))["xml"]
    assert reply["ToUserName"] == "mycreate"
    assert "hello" in reply["Content"]  # the menu quotes the text it did not understand
    assert count(vector_app, InboundEvent) == 1


def test_help_gets_a_help_reply_through_the_emulator(wecom):
    delivery = wecom.as_user("zhangsan").say("帮助")
    assert delivery.status == 200
    assert "登记" in delivery.text and "年检" in delivery.text
    assert delivery.text.startswith("张三")  # the user was looked up with user/get
    assert wecom.texts("zhangsan") == [delivery.text]


def test_unknown_text_gets_the_short_menu(wecom):
    delivery = wecom.as_user("lisi").say("今天天气如何")
    assert "今天天气如何" in delivery.text and "帮助" in delivery.text


@pytest.fixture
def echo_command(app):
    """A test command whose effect is an outbox message, to count effects of retries."""
    def echo(ctx):
        ctx.send([ctx.userid], "raw", text="回声：" + ctx.text)
        ctx.reply("raw", text="收到")
    app.extensions["filingbot.router"].command("回声")(echo)


def test_a_retried_callback_gets_the_same_answer_and_has_one_effect(app, wecom, echo_command):
    first = wecom.as_user("zhangsan").say("回声 一次")
    again = wecom.phone.redeliver("zhangsan", first.query, first.body)
    assert again.status == 200 and again.text == first.text == "收到"
    assert count(app, InboundEvent) == 1
    assert count(app, OutboxMessage) == 1
    wecom.drain()
    assert wecom.texts("zhangsan").count("回声：回声 一次") == 1


def test_a_retried_help_is_answered_from_the_stored_reply(app, wecom):
    """帮助 writes nothing but its inbound key, in a transaction of its own: a retry still
    finds the key and replays the stored reply."""
    first = wecom.as_user("zhangsan").say("帮助")
    assert first.text.startswith("张三，")
    with app.extensions["filingbot.engine"].begin() as conn:  # a fresh answer would differ
        conn.execute(update(User).where(User.userid == "zhangsan").values(name="张三丰"))
    again = wecom.phone.redeliver("zhangsan", first.query, first.body)
    assert again.status == 200 and again.text == first.text
    assert count(app, InboundEvent) == 1
    assert count(app, OutboxMessage) == 0


def test_a_change_committed_elsewhere_is_seen_by_the_next_message(app, wecom):
    """The callback's connection is kept between requests (SQLite): it must hold no snapshot."""
    assert wecom.as_user("zhangsan").say("帮助").text.startswith("张三，")
    with app.extensions["filingbot.engine"].begin() as conn:  # another worker, say
        conn.execute(update(User).where(User.userid == "zhangsan").values(name="张三丰"))
    assert wecom.as_user("zhangsan").say("帮助").text.startswith("张三丰，")


def test_twenty_request_threads_in_one_process_are_all_answered(app, emulator):
    """As under gunicorn's threaded workers: each thread keeps its own connection, and there
    are more of them than the pool keeps."""
    users = ["zhangsan", "lisi", "liulei", "xuli"]
    barrier = threading.Barrier(20)

    def one(i):
        phone = Phone(emulator, flask_target(app))
        barrier.wait()
        return phone.say(users[i % 4], "帮助")

    with ThreadPoolExecutor(max_workers=20) as pool:
        deliveries = list(pool.map(one, range(20)))
    assert [d.status for d in deliveries] == [200] * 20
    assert all("登记" in d.text for d in deliveries)
    assert count(app, InboundEvent) == 20


def test_two_messages_starting_a_form_at_once_are_both_answered(app, emulator):
    """A double tap on send: both messages start the form, the second to commit collides on
    the user's conversation row and is handled again after the first, not apologised for."""
    users = ["zhangsan", "lisi", "liulei", "xuli"]
    for user in users:  # met before: the race is in the form, not the directory
        Phone(emulator, flask_target(app)).say(user, "帮助")
    barrier = threading.Barrier(2 * len(users))

    def one(i):
        phone = Phone(emulator, flask_target(app))
        barrier.wait()
        return phone.say(users[i // 2], "登记")

    with ThreadPoolExecutor(max_workers=2 * len(users)) as pool:
        deliveries = list(pool.map(one, range(2 * len(users))))
    assert [d.status for d in deliveries] == [200] * len(deliveries)
    assert not [d.text for d in deliveries if "出了问题" in d.text]
    assert count(app, InboundEvent) == 3 * len(users)
    with Session(app.extensions["filingbot.engine"]) as session:
        forms = session.exec(select(Conversation.userid, Conversation.kind)).all()
    assert sorted(forms) == sorted((user, "register") for user in users)


def _signed(crypto: WeChatCrypto, inner: str) -> tuple[str, bytes]:
    envelope = xmltodict.parse(crypto.encrypt_message(inner, "nonce1", NOW))["xml"]
    query = urlencode({"msg_signature": envelope["MsgSignature"], "timestamp": NOW,
                       "nonce": "nonce1"})
    body = f"<xml><ToUserName>{CORP_ID}</ToUserName><Encrypt>{envelope['Encrypt']}</Encrypt></xml>"
    return query, body.encode()


TEXT = (f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>zhangsan</FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType>text</MsgType><Content>帮助</Content>"
        "<MsgId>42</MsgId><AgentID>1000002</AgentID></xml>")
BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        "<xml><Encrypt>&lol2;</Encrypt></xml>")
EXTERNAL = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            "<xml><Encrypt>&e;</Encrypt></xml>")


def _sign_raw(ciphertext: str) -> str:
    """Query string with a valid signature over an arbitrary Encrypt value (doc 91144 formula)."""
    signature = hashlib.sha1(
        "".join(sorted([TOKEN, NOW, "n", ciphertext])).encode()).hexdigest()
    return urlencode({"msg_signature": signature, "timestamp": NOW, "nonce": "n"})


def refused_requests():
    good = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    other_corp = WeChatCrypto(TOKEN, AES_KEY, "wwsomeothercorp")
    query, body = _signed(good, TEXT)
    other_query, other_body = _signed(other_corp, TEXT.replace(CORP_ID, "wwsomeothercorp"))
    not_wecom_query, not_wecom_body = _signed(good, "<xml><Hello>world</Hello></xml>")
    bomb_inner_query, bomb_inner_body = _signed(good, BOMB)
    bad_sig = query.replace("msg_signature=", "msg_signature=0")
    return [
        ("bad signature", bad_sig, body, 403),
        ("encrypted for another corp", other_query, other_body, 403),
        ("missing query parameters", "", body, 400),
        ("missing nonce", query.split("&nonce")[0], body, 400),
        ("not XML", query, b"hello world", 400),
        ("XML without Encrypt", query, b"<xml><Foo>1</Foo></xml>", 400),
        ("garbage ciphertext", _sign_raw("bm90IGNpcGhlcg=="),
         b"<xml><Encrypt>bm90IGNpcGhlcg==</Encrypt></xml>", 400),
        ("decrypts to non-WeCom XML", not_wecom_query, not_wecom_body, 400),
        ("billion laughs", query, BOMB.encode(), 400),
        ("external entity", query, EXTERNAL.encode(), 400),
        ("entities inside the ciphertext", bomb_inner_query, bomb_inner_body, 400),
        ("body over 64 KiB", query, body + b" " * (64 * 1024), 413),
    ]


@pytest.mark.parametrize("name,query,body,status", refused_requests(),
                         ids=[r[0] for r in refused_requests()])
def test_bad_requests_are_refused_and_write_nothing(app, name, query, body, status):
    response = app.test_client().post("/wecom/callback?" + query, data=body)
    assert response.status_code == status
    assert count(app, InboundEvent) == 0
    assert count(app, OutboxMessage) == 0
    assert count(app, User) == 0


def test_get_with_a_bad_signature_is_refused(app):
    query = {"msg_signature": "0" * 40, "timestamp": "1", "nonce": "2", "echostr": "abcd"}
    assert app.test_client().get("/wecom/callback?" + urlencode(query)).status_code == 403
    del query["echostr"]
    assert app.test_client().get("/wecom/callback?" + urlencode(query)).status_code == 400


def test_a_message_for_another_app_of_the_corp_is_refused(app):
    query, body = _signed(WeChatCrypto(TOKEN, AES_KEY, CORP_ID),
                          TEXT.replace("<AgentID>1000002</AgentID>", "<AgentID>1000099</AgentID>"))
    assert app.test_client().post("/wecom/callback?" + query, data=body).status_code == 400
    assert count(app, InboundEvent) == 0


def test_long_replies_are_split_into_messages_of_at_most_2048_bytes(app, wecom):
    def long_answer(ctx):
        ctx.reply("raw", text="\n".join(f"第{i}行：" + "账号备案" * 20 for i in range(60)))
    app.extensions["filingbot.router"].command("长")(long_answer)
    delivery = wecom.as_user("zhangsan").say("长")
    assert delivery.status == 200 and delivery.reply is None
    wecom.drain()
    parts = wecom.texts("zhangsan")
    assert len(parts) > 1
    assert all(len(p.encode()) <= 2048 for p in parts)
    assert "\n".join(parts).count("账号备案") == 60 * 20


def test_healthz_checks_the_database(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json()["database"] == "ok"


@pytest.mark.parametrize("text", ["a]]>b", "]]>", "]]>]]>", "x]]]]>y<![CDATA[z]]>", "<&>\"'"])
def test_item1_reply_with_cdata_end_is_well_formed(app, wecom, text):
    """wechatpy wraps reply text in CDATA as is: `]]>` in it must not end the section early,
    neither in the reply nor in the stored copy a retried callback is answered with."""
    expected = render_text("help/menu", unknown=text)
    first = wecom.as_user("zhangsan").say(text)  # the emulator parses the decrypted reply XML
    assert first.status == 200 and first.text == expected
    with Session(app.extensions["filingbot.engine"]) as session:
        stored = session.scalar(select(InboundEvent.reply))
    assert xmltodict.parse(stored)["xml"]["Content"] == expected
    again = wecom.phone.redeliver("zhangsan", first.query, first.body)
    assert again.status == 200 and again.text == expected
    assert wecom.texts("zhangsan") == [expected, expected]
