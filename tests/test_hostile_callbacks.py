"""Issue 15: a table of hostile requests to /wecom/callback. Each gets its expected status (never
a 500, which WeCom would retry) and writes nothing: no inbound key, no outbox row, no user.

Most are refused before the signature is checked (size, method, XML) or at it; the rest are
validly signed and encrypted with the app's own Token and key, as if that key had leaked or
WeCom itself misbehaved: stale or future timestamps, foreign corp or agent ids, odd fields,
entities and DTDs inside the ciphertext, broken lengths and paddings.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import struct
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import func, select
from sqlmodel import Session

from bot.clock import SHANGHAI
from models import Conversation, InboundEvent, OutboxMessage, User
from tests.wecom import AES_KEY, AGENT_ID, CORP_ID, TOKEN

START = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)  # the test clock (conftest `clock`)
NOW = int(START.timestamp())
KEY = base64.b64decode(AES_KEY + "=")
OTHER_KEY = base64.b64decode("A" * 43 + "=")
CORP = CORP_ID.encode()


def seal(plain: bytes, receiveid: bytes = CORP, *, key: bytes = KEY,
         length: int | None = None, pad: int | None = None) -> str:
    """WeCom's encryption (doc 90968 / 91144): base64(AES-256-CBC(iv=key[:16],
    PKCS#7/32(random16 + len(msg) big-endian + msg + receiveid))); `length` and `pad` lie."""
    body = os.urandom(16) + struct.pack(">I", len(plain) if length is None else length) \
        + plain + receiveid
    amount = 32 - len(body) % 32
    body += bytes([pad if pad is not None else amount]) * amount
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(body) + encryptor.finalize()).decode()


def signature(encrypt: str, timestamp: str, nonce: str, token: str = TOKEN) -> str:
    """sha1 of the sorted token, timestamp, nonce and ciphertext (doc 91144)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def envelope(encrypt: str) -> bytes:
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>").encode()


def inner(*, sender="zhangsan", to=CORP_ID, agent=str(AGENT_ID), msgid="4561255354251345929",
          create=str(NOW), msgtype="text", content="帮助", extra="") -> str:
    """A decrypted text message; every field can be made odd, or left out with None."""
    parts = ["<xml>"]
    for tag, value in (("ToUserName", to), ("FromUserName", sender), ("CreateTime", create),
                       ("MsgType", msgtype), ("Content", content), ("MsgId", msgid),
                       ("AgentID", agent)):
        if value is not None:
            parts.append(f"<{tag}>{value}</{tag}>")
    return "".join(parts) + extra + "</xml>"


@dataclass
class Hostile:
    name: str
    body: bytes = b""
    query: dict | str = field(default_factory=dict)
    expect: int | tuple = 400
    method: str = "POST"
    path: str = "/wecom/callback"
    headers: dict = field(default_factory=dict)
    environ: dict = field(default_factory=dict)


def signed(name, plain: str | bytes, expect, *, timestamp: int = NOW, nonce="nonce42",
           receiveid=CORP, key=KEY, length=None, pad=None, **extra) -> Hostile:
    """A request signed with the app's Token, its body sealed as WeCom would (or not quite)."""
    data = plain.encode() if isinstance(plain, str) else plain
    encrypt = seal(data, receiveid, key=key, length=length, pad=pad)
    query = {"msg_signature": signature(encrypt, str(timestamp), nonce),
             "timestamp": str(timestamp), "nonce": nonce}
    return Hostile(name, envelope(encrypt), query, expect, **extra)


def signed_raw(name, encrypt: str, expect, *, body: bytes | None = None) -> Hostile:
    """A valid signature over an arbitrary Encrypt value."""
    query = {"msg_signature": signature(encrypt, str(NOW), "n"), "timestamp": str(NOW),
             "nonce": "n"}
    return Hostile(name, envelope(encrypt) if body is None else body, query, expect)


BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
QUADRATIC = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "' + "a" * 20000 + '">]>'
XXE_FILE = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
XXE_HTTP = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:9/x">]>'
PARAMETER = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd">'
             '%p;]>')
EXTERNAL_DTD = '<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd">'


def hostile_requests() -> list[Hostile]:
    good_plain = inner()
    good_encrypt = seal(good_plain.encode())
    good_query = {"msg_signature": signature(good_encrypt, str(NOW), "nonce42"),
                  "timestamp": str(NOW), "nonce": "nonce42"}
    good_body = envelope(good_encrypt)
    stale = NOW - 25 * 3600
    cases = [
        # --- the query string and the signature ------------------------------------------
        Hostile("no query string", good_body, {}, 400),
        Hostile("msg_signature missing", good_body,
                {k: v for k, v in good_query.items() if k != "msg_signature"}, 400),
        Hostile("timestamp missing", good_body,
                {k: v for k, v in good_query.items() if k != "timestamp"}, 400),
        Hostile("nonce missing", good_body,
                {k: v for k, v in good_query.items() if k != "nonce"}, 400),
        Hostile("msg_signature empty", good_body, {**good_query, "msg_signature": ""}, 400),
        Hostile("signature of zeros", good_body, {**good_query, "msg_signature": "0" * 40}, 403),
        Hostile("signature in capitals", good_body,
                {**good_query, "msg_signature": good_query["msg_signature"].upper()}, 403),
        Hostile("signature cut short", good_body,
                {**good_query, "msg_signature": good_query["msg_signature"][:39]}, 403),
        Hostile("signature 4000 characters", good_body,
                {**good_query, "msg_signature": "a" * 4000}, 403),
        Hostile("signature not hex", good_body, {**good_query, "msg_signature": "签名" * 20}, 403),
        Hostile("signature with another token", good_body,
                {**good_query, "msg_signature": signature(good_encrypt, str(NOW), "nonce42",
                                                          token="otherToken1")}, 403),
        Hostile("nonce changed after signing", good_body, {**good_query, "nonce": "nonce43"}, 403),
        Hostile("timestamp changed after signing", good_body,
                {**good_query, "timestamp": str(NOW + 1)}, 403),
        Hostile("timestamp not a number", good_body, {**good_query, "timestamp": "abc"}, 400),
        Hostile("timestamp negative", good_body, {**good_query, "timestamp": "-1"}, 400),
        Hostile("timestamp with a decimal point", good_body,
                {**good_query, "timestamp": f"{NOW}.5"}, 400),
        Hostile("timestamp of 30 digits", good_body, {**good_query, "timestamp": "9" * 30}, 400),
        Hostile("timestamp in full-width digits", good_body,
                {**good_query, "timestamp": "１７９５５７２０００"}, 400),
        Hostile("query parameters twice, a bad one first", good_body,
                urlencode([("msg_signature", "0" * 40)] + list(good_query.items())), 403),
        Hostile("query of 10 KiB", good_body,
                {**good_query, "msg_signature": "0" * 40, "padding": "x" * 10240}, 403),
        # --- timestamps and replays (validly signed) ------------------------------------
        signed("signed 25 hours ago", good_plain, 403, timestamp=stale),
        signed("signed 8 days ago (replay after the dedup key is pruned)", good_plain, 403,
               timestamp=NOW - 8 * 86400),
        signed("signed a year ago", good_plain, 403, timestamp=NOW - 365 * 86400),
        signed("signed at the epoch", good_plain, 403, timestamp=0),
        signed("signed 6 minutes ahead", good_plain, 403, timestamp=NOW + 360),
        signed("signed a year ahead", good_plain, 403, timestamp=NOW + 365 * 86400),
        signed("signed in 2286 (11 digits)", good_plain, 403, timestamp=10 ** 10),
        signed("a card tap replayed a day later", inner(
            msgtype="event", content=None, msgid=None,
            extra="<Event>template_card_event</Event><EventKey>decide:1:office:approve</EventKey>"
                  "<TaskId>filing-1-office</TaskId><ResponseCode>rc</ResponseCode>"),
            403, timestamp=stale),
        # --- corp and app ----------------------------------------------------------------
        signed("encrypted for another corp", good_plain, 403, receiveid=b"wwothercorp"),
        signed("encrypted with an empty receiveid", good_plain, 403, receiveid=b""),
        signed("inner ToUserName of another corp", inner(to="wwothercorp"), 400),
        signed("inner ToUserName missing", inner(to=None), 400),
        signed("AgentID of another app", inner(agent="1000099"), 400),
        signed("AgentID not a number", inner(agent="abc"), 400),
        signed("AgentID nested", inner(agent="<a>1000002</a>"), 400),
        # --- the key, base64, lengths and padding -----------------------------------------
        signed("sealed with another AES key", good_plain, (400, 403), key=OTHER_KEY),
        signed("length field larger than the message", good_plain, (400, 403), length=10 ** 6),
        signed("length field of zero", good_plain, (400, 403), length=0),
        signed("length field of 2^32-1", good_plain, (400, 403), length=2 ** 32 - 1),
        signed("padding byte of zero", good_plain, (400, 403), pad=0),
        signed("padding byte of 200", good_plain, (400, 403), pad=200),
        signed_raw("Encrypt not base64", "!!!not-base64!!!", 400),
        signed_raw("Encrypt base64 of 5 bytes", base64.b64encode(b"12345").decode(), 400),
        signed_raw("Encrypt of 31 bytes (not whole blocks)",
                   base64.b64encode(os.urandom(31)).decode(), 400),
        signed_raw("Encrypt of random whole blocks", base64.b64encode(os.urandom(64)).decode(),
                   (400, 403)),
        signed_raw("Encrypt of one block", base64.b64encode(os.urandom(16)).decode(),
                   (400, 403)),
        signed_raw("Encrypt with base64 padding only", "====", 400),
        Hostile("Encrypt empty", b"<xml><Encrypt></Encrypt></xml>", good_query, 400),
        Hostile("Encrypt of whitespace", b"<xml><Encrypt>   </Encrypt></xml>", good_query, 400),
        signed_raw("Encrypt of 48 KiB", base64.b64encode(os.urandom(36 * 1024)).decode(),
                   (400, 403)),
        # --- the decrypted message -------------------------------------------------------
        signed("plaintext not XML", "hello world", 400),
        signed("plaintext JSON", '{"FromUserName": "zhangsan", "MsgType": "text"}', 400),
        signed("plaintext empty", "", 400),
        signed("plaintext of NUL bytes", b"\x00" * 64, 400),
        signed("plaintext not UTF-8", b"<xml>\xff\xfe\xfd</xml>", 400),
        signed("plaintext with a DOCTYPE", "<!DOCTYPE xml>" + good_plain, 400),
        signed("plaintext billion laughs", BOMB + "<xml><Content>&lol3;</Content></xml>", 400),
        signed("plaintext quadratic blowup", QUADRATIC + "<xml>" + "&a;" * 2000 + "</xml>", 400),
        signed("plaintext external entity (file)", XXE_FILE + inner(content="&e;"), 400),
        signed("plaintext external entity (http)", XXE_HTTP + inner(content="&e;"), 400),
        signed("plaintext parameter entity", PARAMETER + good_plain, 400),
        signed("plaintext external DTD", EXTERNAL_DTD + good_plain, 400),
        signed("plaintext undeclared entity", inner(content="&secret;"), 400),
        signed("plaintext lower-case doctype", "<!doctype xml>" + good_plain, 400),
        signed("plaintext root not xml", good_plain.replace("xml>", "msg>"), 400),
        signed("plaintext unclosed", good_plain[:-6], 400),
        signed("plaintext of two roots", good_plain + good_plain, 400),
        signed("FromUserName missing", inner(sender=None), 400),
        signed("FromUserName empty", inner(sender=""), 400),
        signed("FromUserName of 65 characters", inner(sender="u" * 65), 400),
        signed("FromUserName of 10,000 characters", inner(sender="u" * 10000), 400),
        signed("FromUserName with a line break", inner(sender="zhang\nsan"), 400),
        signed("FromUserName with a space", inner(sender="zhang san"), 400),
        signed("FromUserName with a control character", inner(sender="zhang&#1;san"), 400),
        signed("FromUserName nested", inner(sender="<a>zhangsan</a>"), 400),
        signed("FromUserName twice", inner(extra="<FromUserName>lisi</FromUserName>"), 400),
        signed("MsgType missing", inner(msgtype=None), 400),
        signed("MsgType nested", inner(msgtype="<a>text</a>"), 400),
        signed("MsgId with letters", inner(msgid="12ab"), 400),
        signed("MsgId negative", inner(msgid="-1"), 400),
        signed("MsgId of 25 digits", inner(msgid="9" * 25), 400),
        signed("MsgId in full-width digits", inner(msgid="１２３"), 400),
        signed("MsgId nested", inner(msgid="<a>1</a>"), 400),
        signed("MsgId twice", inner(extra="<MsgId>2</MsgId>"), 400),
        signed("CreateTime missing", inner(create=None), 400),
        signed("CreateTime empty", inner(create=""), 400),
        signed("CreateTime with letters", inner(create="yesterday"), 400),
        signed("CreateTime of 30 digits", inner(create="9" * 30), 400),
        signed("event with nested Event", inner(msgtype="event", content=None, msgid=None,
                                                extra="<Event><a>click</a></Event>"), 400),
        # --- the envelope (refused before the signature is checked) ---------------------
        Hostile("body empty", b"", good_query, 400),
        Hostile("body of whitespace", b"   \r\n ", good_query, 400),
        Hostile("body not XML", b"hello world", good_query, 400),
        Hostile("body JSON", b'{"Encrypt": "abc"}', good_query, 400),
        Hostile("body form-encoded", b"Encrypt=abc&ToUserName=x", good_query, 400,
                headers={"Content-Type": "application/x-www-form-urlencoded"}),
        Hostile("body multipart", b"--b\r\nContent-Disposition: form-data; name=\"Encrypt\"\r\n"
                b"\r\nabc\r\n--b--\r\n", good_query, 400,
                headers={"Content-Type": "multipart/form-data; boundary=b"}),
        Hostile("billion laughs", (BOMB + "<xml><Encrypt>&lol3;</Encrypt></xml>").encode(),
                good_query, 400),
        Hostile("quadratic blowup", (QUADRATIC + "<xml><Encrypt>" + "&a;" * 1000
                                     + "</Encrypt></xml>").encode(), good_query, 400),
        Hostile("external entity (file)", (XXE_FILE + "<xml><Encrypt>&e;</Encrypt></xml>")
                .encode(), good_query, 400),
        Hostile("external entity (http)", (XXE_HTTP + "<xml><Encrypt>&e;</Encrypt></xml>")
                .encode(), good_query, 400),
        Hostile("parameter entity", (PARAMETER + "<xml/>").encode(), good_query, 400),
        Hostile("external DTD", (EXTERNAL_DTD + good_body.decode()).encode(), good_query, 400),
        Hostile("internal DTD without entities", b"<!DOCTYPE xml [<!ELEMENT xml ANY>]>"
                + good_body, good_query, 400),
        Hostile("XInclude", b'<xml xmlns:xi="http://www.w3.org/2001/XInclude">'
                b'<xi:include href="file:///etc/passwd"/></xml>', good_query, 400),
        Hostile("deep nesting (8,000 levels)", b"<xml>" + b"<a>" * 8000 + b"</a>" * 8000
                + b"</xml>", good_query, 400),
        Hostile("deep nesting (50,000 levels)", b"<xml>" + b"<a>" * 50000 + b"</a>" * 50000
                + b"</xml>", good_query, 413),
        Hostile("root not xml", good_body.replace(b"xml>", b"msg>"), good_query, 400),
        Hostile("Encrypt nested below the root", b"<xml><a>" + good_body + b"</a></xml>",
                good_query, 400),
        Hostile("Encrypt twice, a bad one first", b"<xml><Encrypt>AAAA</Encrypt>"
                + good_body[5:], good_query, 403),
        Hostile("unclosed XML", good_body[:-6], good_query, 400),
        Hostile("NUL bytes", b"\x00" * 100, good_query, 400),
        Hostile("invalid UTF-8", b"<xml><Encrypt>\xff\xfe</Encrypt></xml>", good_query, 400),
        Hostile("declared UTF-16, sent as UTF-8", b'<?xml version="1.0" encoding="UTF-16"?>'
                + good_body, good_query, 400),
        Hostile("unknown encoding declared", b'<?xml version="1.0" encoding="x-klingon"?>'
                + good_body, good_query, 400),
        Hostile("UTF-16 with a bad signature", envelope("AAAA").decode().encode("utf-16"),
                good_query, 403),
        Hostile("processing instruction, bad signature", b'<?xml-stylesheet href="x"?>'
                + envelope("AAAA"), good_query, 403),
        # --- sizes and transfer encodings --------------------------------------------------
        Hostile("body one byte over 64 KiB", good_body + b" " * (64 * 1024 - len(good_body) + 1),
                good_query, 413),
        Hostile("body of 1 MiB", b"<xml>" + b"a" * 1024 * 1024 + b"</xml>", good_query, 413),
        Hostile("Content-Length says 10 MiB", good_body, good_query, 413,
                environ={"CONTENT_LENGTH": str(10 * 1024 * 1024)}),
        # Read up to the 64 KiB cap (MAX_CONTENT_LENGTH), never further: 413, or 400 for
        # the truncated XML, depending on where Werkzeug stops.
        Hostile("chunked, over 64 KiB", b"<xml>" + b"a" * 70000 + b"</xml>", good_query,
                (400, 413),
                headers={"Transfer-Encoding": "chunked"},
                environ={"wsgi.input_terminated": True}),
        Hostile("chunked, garbage", b"not xml at all", good_query, 400,
                headers={"Transfer-Encoding": "chunked"},
                environ={"wsgi.input_terminated": True}),
        Hostile("chunked, bad signature", envelope("AAAA"), good_query, 403,
                headers={"Transfer-Encoding": "chunked"},
                environ={"wsgi.input_terminated": True}),
        # --- methods, paths and content types ---------------------------------------------
        Hostile("PUT", good_body, good_query, 405, method="PUT"),
        Hostile("DELETE", good_body, good_query, 405, method="DELETE"),
        Hostile("PATCH", good_body, good_query, 405, method="PATCH"),
        Hostile("TRACE", b"", good_query, 405, method="TRACE"),
        Hostile("OPTIONS", b"", good_query, 200, method="OPTIONS"),
        Hostile("HEAD without echostr", b"", good_query, 400, method="HEAD"),
        Hostile("trailing slash", good_body, good_query, 404, path="/wecom/callback/"),
        Hostile("path in capitals", good_body, good_query, 404, path="/WECOM/callback"),
        Hostile("path with a dot segment", good_body, good_query, 404,
                path="/wecom/./callback/.."),
        Hostile("content type JSON, bad signature", envelope("AAAA"), good_query, 403,
                headers={"Content-Type": "application/json"}),
        Hostile("content type with a UTF-16 charset, bad signature", envelope("AAAA"),
                good_query, 403, headers={"Content-Type": "text/xml; charset=utf-16"}),
        Hostile("content type image/png, not XML", b"\x89PNG\r\n\x1a\n", good_query, 400,
                headers={"Content-Type": "image/png"}),
        # --- the GET URL check -------------------------------------------------------------
        Hostile("GET without echostr", b"", good_query, 400, method="GET"),
        Hostile("GET with a bad signature", b"", {**good_query, "echostr": "abcd"}, 403,
                method="GET"),
        Hostile("GET echostr not base64, signed", b"", {
            "msg_signature": signature("!!!", str(NOW), "n"), "timestamp": str(NOW),
            "nonce": "n", "echostr": "!!!"}, 400, method="GET"),
        Hostile("GET echostr for another corp", b"", get_check(b"echo", b"wwothercorp"), 403,
                method="GET"),
        Hostile("GET signed 25 hours ago", b"", get_check(b"echo", timestamp=stale), 403,
                method="GET"),
        Hostile("GET timestamp not a number", b"", {**get_check(b"echo"), "timestamp": "x"},
                400, method="GET"),
    ]
    return cases


def get_check(echo: bytes, receiveid: bytes = CORP, timestamp: int = NOW) -> dict:
    """The query of a GET URL check (验证URL有效性): echostr sealed and signed."""
    encrypt = seal(echo, receiveid)
    return {"msg_signature": signature(encrypt, str(timestamp), "n"),
            "timestamp": str(timestamp), "nonce": "n", "echostr": encrypt}


CASES = hostile_requests()


def test_the_table_holds_over_a_hundred_requests():
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES)


def written(app) -> dict:
    with Session(app.extensions["filingbot.engine"]) as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model))
                for model in (InboundEvent, OutboxMessage, User, Conversation)}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_request_gets_its_status_and_writes_nothing(app, clock, case):
    assert clock.now() == START  # the table's "now"
    query = case.query if isinstance(case.query, str) else urlencode(case.query)
    headers = {"Content-Type": "text/xml", **case.headers}
    if "Transfer-Encoding" in headers:  # no Content-Length: the body is read to its end
        response = app.test_client().open(
            case.path + "?" + query, method=case.method, headers=headers,
            input_stream=io.BytesIO(case.body), environ_overrides=case.environ)
    else:
        response = app.test_client().open(case.path + "?" + query, method=case.method,
                                          data=case.body, headers=headers,
                                          environ_overrides=case.environ)
    expected = case.expect if isinstance(case.expect, tuple) else (case.expect,)
    assert response.status_code in expected, (response.status_code, response.get_data()[:300])
    assert response.status_code != 500
    assert written(app) == {"InboundEvent": 0, "OutboxMessage": 0, "User": 0,
                            "Conversation": 0}


def test_the_valid_callback_the_table_is_made_from_is_accepted(app):
    """The control: the unaltered request is answered (so each refusal above is the change's)."""
    case = signed("valid", inner(), 200)
    response = app.test_client().post("/wecom/callback?" + urlencode(case.query),
                                      data=case.body, content_type="text/xml")
    assert response.status_code == 200 and response.get_data()
    assert written(app)["InboundEvent"] == 1


def test_a_stale_replay_is_logged(app, caplog):
    case = signed("stale", inner(), 403, timestamp=NOW - 2 * 86400)
    response = app.test_client().post("/wecom/callback?" + urlencode(case.query),
                                      data=case.body, content_type="text/xml")
    assert response.status_code == 403
    assert any("replayed or delayed" in r.getMessage() for r in caplog.records)
    assert TOKEN not in caplog.text and AES_KEY not in caplog.text
