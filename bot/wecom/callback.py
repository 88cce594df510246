"""POST/GET /wecom/callback: the WeCom callback, as a pipeline of one-job steps.

size limit → parse envelope safely → verify + decrypt → parse → dedup → route → reply.

Protocol: 接收消息与事件 (doc 90238, retries and dedup), 加解密方案 (doc 90968), 被动回复
(doc 90241). The durable write comes before the answer: the inbound row, the state change and
the outbox rows are committed in one transaction, then the passive reply is returned.
"""

from __future__ import annotations

import logging
import secrets
import time

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import bindparam, insert, literal, select
from sqlalchemy.exc import IntegrityError
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from bot import directory
from bot.context import Ctx, Sender
from bot.direct_sql import DirectStatement
from bot.thread_connection import ThreadConnections
from bot.wecom import events  # noqa: F401  (registers template_card_event with wechatpy)
from bot.wecom.replies import fits_passive, split_utf8, text_reply_xml, update_button_reply_xml
from handlers.approval.prompts import PROMPT_PREFIX
from models import Conversation, InboundEvent, KeyValue, User

log = logging.getLogger(__name__)
bp = Blueprint("wecom", __name__)

MAX_BODY = 64 * 1024
QUERY_KEYS = ("msg_signature", "timestamp", "nonce")


class BadCallback(Exception):
    """A request that is not a well-formed WeCom callback (→ 400)."""


@bp.get("/wecom/callback")
def verify_url():
    """URL check (验证URL有效性): answer the decrypted echostr, raw, within 1 s."""
    args = require_query(QUERY_KEYS + ("echostr",))
    try:
        echo = crypto().check_signature(args["msg_signature"], args["timestamp"], args["nonce"],
                                        args["echostr"])
    except (InvalidSignatureException, InvalidCorpIdException):
        abort(403)
    except Exception:  # bad base64, bad padding: not something WeCom sent
        abort(400)
    return Response(echo, mimetype="text/plain")


@bp.post("/wecom/callback")
def receive():
    """Receive a message or event and answer with an encrypted passive reply or an empty 200."""
    args = require_query(QUERY_KEYS)
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    body = request.get_data(cache=False)  # MAX_CONTENT_LENGTH caps chunked bodies too
    try:
        encrypted = encrypted_part(body)
        plain = crypto().decrypt_message({"Encrypt": encrypted}, args["msg_signature"],
                                         args["timestamp"], args["nonce"])
    except (InvalidSignatureException, InvalidCorpIdException):
        abort(403)
    except BadCallback:
        abort(400)
    except Exception:  # undecryptable payload
        abort(400)
    try:
        message = parse_inner(plain)
    except BadCallback:
        abort(400)
    reply_xml = handle(message)
    if not reply_xml:
        return Response("", mimetype="text/plain")
    nonce = secrets.token_hex(8)
    return Response(crypto().encrypt_message(reply_xml, nonce, str(int(time.time()))),
                    mimetype="application/xml")


def require_query(keys: tuple[str, ...]) -> dict:
    """The query parameters WeCom always sends; 400 when one is missing."""
    values = {key: request.args.get(key, "") for key in keys}
    if not all(values.values()):
        abort(400)
    return values


def crypto() -> WeChatCrypto:
    """The app's WeChatCrypto, made once (it decodes the AES key)."""
    made = current_app.extensions.get("filingbot.crypto")
    if made is None:
        settings = current_app.config["SETTINGS"]
        made = WeChatCrypto(settings.wecom_token, settings.wecom_aes_key, settings.wecom_corp_id)
        current_app.extensions["filingbot.crypto"] = made
    return made


def encrypted_part(body: bytes) -> str:
    """The Encrypt element of the outer envelope; DTDs and entities are refused."""
    try:
        root = safe_fromstring(body, forbid_dtd=True)
    except (DefusedXmlException, SyntaxError, ValueError) as exc:
        raise BadCallback(str(exc)) from None
    encrypted = root.findtext("Encrypt")
    if root.tag != "xml" or not encrypted:
        raise BadCallback("no Encrypt element")
    return encrypted.strip()


def parse_inner(plain: str):
    """Parse the decrypted XML into a wechatpy message; anything not from our app is refused.

    Entities need a DOCTYPE to be declared (XML names are case-sensitive), so refusing any
    DOCTYPE keeps entity expansion out of wechatpy's parser without parsing twice."""
    if "<!DOCTYPE" in plain or "<!ENTITY" in plain:
        raise BadCallback("DTDs are not accepted")
    try:
        message = parse_message(plain)
    except Exception as exc:  # wechatpy/xmltodict raise several types for malformed XML
        raise BadCallback(str(exc)) from None
    raw = getattr(message, "_data", None) or {}
    settings = current_app.config["SETTINGS"]
    if not raw.get("FromUserName") or not raw.get("MsgType"):
        raise BadCallback("not a WeCom message")
    if raw.get("ToUserName") != settings.wecom_corp_id:
        raise BadCallback("message for another corp")
    agent = str(raw.get("AgentID") or "").strip()
    if agent and agent != str(settings.wecom_agent_id):
        raise BadCallback("message for another app")
    return message


def dedup_key(message) -> str:
    """MsgId for messages; sender + CreateTime + event + key/TaskId for events (doc 90238)."""
    if message.type != "event":
        return f"msg:{message.id}"
    raw = message._data
    return ":".join(str(part) for part in (
        "evt", message.source, raw.get("CreateTime", ""), raw.get("Event", ""),
        raw.get("EventKey", "") or "", raw.get("TaskId", "") or "",
    ))


def handle(message) -> str:
    """Answer a message or event; return the plaintext reply XML ('' for none).

    The sender is read outside any write transaction: most messages (帮助, a new command)
    change nothing but the inbound key, and SQLite's write lock is held only for writing."""
    app = current_app._get_current_object()
    connections = app.extensions["filingbot.callback_connections"]
    with connections.connect() as conn:
        sender = load_sender(conn, message.source)
        if sender is not None and not directory.needs_lookup(sender):
            return answer(app, conn, sender, message)
    # First contact, or a stale cache: ask WeCom (user/get) holding no database connection, so
    # that no thread waits for a second connection while holding one.
    directory.ensure_user(app.extensions["filingbot.engine"], app.extensions["filingbot.client"],
                          message.source)
    with connections.connect() as conn:
        return answer(app, conn, load_sender(conn, message.source), message)


def answer(app, conn, sender: Sender, message) -> str:
    """Route and commit in one transaction; return the plaintext reply XML ('' for none).

    The inbound key is inserted with the reply at the end of the transaction: a retry of a
    callback already handled fails on its unique key, its work is rolled back, and it gets the
    stored reply (no second effect). Retries are rare, so the common path pays one INSERT."""
    key = dedup_key(message)
    if sender.has_conversation or sender.has_question:
        # State will be read and changed: take the write transaction now and read the sender
        # again inside it.
        conn.begin()
        sender = load_sender(conn, message.source)
    ctx = Ctx(connection=conn, settings=app.config["SETTINGS"],
              clock=app.extensions["filingbot.clock"], user=sender, message=message)
    try:
        app.extensions["filingbot.router"].dispatch(ctx)
        reply_xml = render_reply(ctx, message)
        ctx.flush()
    except Exception:
        # A bug must not become a 500, which WeCom would retry three times: keep the inbound
        # key with an apology so retries get the same answer.
        log.exception("handler failed for %s", key)
        ctx.close()
        conn.rollback()
        ctx = Ctx(connection=conn, settings=ctx.settings, clock=ctx.clock, user=sender,
                  message=message)
        ctx.reply("error")
        reply_xml = render_reply(ctx, message)
        ctx.flush()
    inbound = {"dedup_key": key, "userid": message.source, "reply": reply_xml,
               "received_at": ctx.clock.now()}
    try:
        if conn.in_transaction():  # the handler wrote: the key joins its transaction
            INSERT_INBOUND.execute(conn, inbound)
            conn.commit()
        else:  # nothing else to write (帮助, a question answered from the database)
            INSERT_INBOUND.execute_and_commit(conn, inbound)
    except IntegrityError:
        conn.rollback()
        stored = STORED_REPLY.first(conn, {"key": key})
        log.info("duplicate callback %s answered from the stored reply", key)
        return (stored and stored[0]) or ""
    finally:
        ctx.close()
    if ctx.enqueued:
        app.extensions["filingbot.dispatcher_thread"].notify()
    return reply_xml


# Built once: every callback runs these, and building a statement costs more than running it.
# They go straight to the driver (bot.direct_sql).
SENDER_QUERY = DirectStatement(
    select(User.userid, User.name, User.looked_up, User.synced_at, Conversation.userid,
           KeyValue.key)
    .outerjoin(Conversation, Conversation.userid == User.userid)
    .outerjoin(KeyValue, KeyValue.key == literal(PROMPT_PREFIX) + User.userid)
    .where(User.userid == bindparam("userid"))
)
INSERT_INBOUND = DirectStatement(insert(InboundEvent).values(
    dedup_key=bindparam("dedup_key"), userid=bindparam("userid"), reply=bindparam("reply"),
    received_at=bindparam("received_at", type_=InboundEvent.__table__.c.received_at.type),
))
STORED_REPLY = DirectStatement(
    select(InboundEvent.reply).where(InboundEvent.dedup_key == bindparam("key")))


def load_sender(conn, userid: str) -> Sender | None:
    """The sender's cached name, and whether a form is open or a question asked, in one query."""
    row = SENDER_QUERY.first(conn, {"userid": userid})
    return Sender(*row[:4], has_conversation=row[4] is not None,
                  has_question=row[5] is not None) if row else None


def render_reply(ctx: Ctx, message) -> str:
    """The passive reply; text over 2048 bytes goes through the outbox in several parts.

    A card tap may only be answered passively with a card update (doc 90241), so any text
    for it goes through the outbox."""
    is_card_event = message.type == "event" and message.event.startswith("template_card")
    if ctx.reply_button is not None or is_card_event:
        if ctx.reply_text:
            for part in split_utf8(ctx.reply_text):
                ctx.send([ctx.userid], "raw", text=part)
        return update_button_reply_xml(ctx.reply_button, message) if ctx.reply_button else ""
    if not ctx.reply_text:
        return ""
    if fits_passive(ctx.reply_text):
        return text_reply_xml(ctx.reply_text, message)
    for part in split_utf8(ctx.reply_text):
        ctx.send([ctx.userid], "raw", text=part)
    return ""


def init_app(app) -> None:
    """Register the callback blueprint and cap request bodies at 64 KiB."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.extensions["filingbot.callback_connections"] = ThreadConnections(
        app.extensions["filingbot.engine"])
    app.register_blueprint(bp)
