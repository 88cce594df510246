"""Answering one inbound message or event: the sender, the handler's transaction, the dedup key.

Protocol: 接收消息与事件 (doc 90238: WeCom retries a callback not answered within 5 s),
被动回复 (doc 90241). The durable write comes before the answer: the inbound key, the state
change and the outbox rows are committed in one transaction, then the passive reply is returned.
"""

from __future__ import annotations

import hashlib
import json
import logging

from flask import current_app
from sqlalchemy import bindparam, insert, literal, select
from sqlalchemy.exc import IntegrityError

from bot import directory
from bot.context import Ctx, Sender
from bot.direct_sql import DirectStatement
from bot.wecom.replies import render_reply
from models import QUESTION_PREFIX, Conversation, InboundEvent, KeyValue, User
from workflow.routing import HeadsUnknown

log = logging.getLogger(__name__)
DEDUP_KEY_LENGTH = InboundEvent.__table__.c.dedup_key.type.length  # 255


def dedup_key(message) -> str:
    """MsgId for messages; sender + CreateTime + event + key/TaskId for events (doc 90238).

    A message without MsgId is keyed by a hash of its content (a retry carries the same
    content); a key longer than the column (a menu `view` event's EventKey is its URL) by a
    hash of the key. bot.wecom.guard has already refused a MsgId that is not a number."""
    raw = message._data
    if message.type != "event":
        msgid = str(raw.get("MsgId") or "").strip()
        if msgid:
            return f"msg:{msgid}"
        content = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
        return "msg#" + hashlib.sha256(content.encode()).hexdigest()
    key = ":".join(str(part) for part in (
        "evt", message.source, raw.get("CreateTime", ""), raw.get("Event", ""),
        raw.get("EventKey", "") or "", raw.get("TaskId", "") or "",
    ))
    if len(key) <= DEDUP_KEY_LENGTH:
        return key
    return "evt#" + hashlib.sha256(key.encode()).hexdigest()


def handle(message) -> str:
    """Answer a message or event; return the plaintext reply XML ('' for none).

    The sender is read outside any write transaction: most messages (帮助, a new command)
    change nothing but the inbound key, and SQLite's write lock is held only for writing."""
    app = current_app._get_current_object()
    engine = app.extensions["filingbot.engine"]
    with engine.connect() as conn:
        sender = load_sender(conn, message.source)
        if sender is not None and not directory.needs_lookup(sender):
            return answer(app, conn, sender, message)
    # First contact, or a stale cache: ask WeCom (user/get) holding no database connection, so
    # that no thread waits for a second connection while holding one.
    directory.ensure_user(engine, app.extensions["filingbot.client"], message.source)
    with engine.connect() as conn:
        return answer(app, conn, load_sender(conn, message.source), message)


def answer(app, conn, sender: Sender, message) -> str:
    """Route and commit in one transaction; return the plaintext reply XML ('' for none).

    The inbound key is inserted with the reply at the end of the transaction: a retry of a
    callback already handled fails on its unique key, its work is rolled back, and it gets the
    stored reply (no second effect). Retries are rare, so the common path pays one INSERT."""
    key = dedup_key(message)
    ctx, reply_xml = route(app, conn, sender, message, key)
    inbound = {"dedup_key": key, "userid": message.source, "reply": reply_xml,
               "received_at": ctx.clock.now()}
    try:
        if not conn.in_transaction():  # nothing else written (帮助): a short one of its own
            conn.begin()
        INSERT_INBOUND.execute(conn, inbound)
        conn.commit()
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


def route(app, conn, sender: Sender, message, key: str) -> tuple[Ctx, str]:
    """Run the handler; return its context (transaction still open) and the reply XML.

    Two messages from one sender can be handled at the same instant (a double tap on send,
    two phones): both may, say, start a form, and the second to commit fails on a unique key.
    That one is handled again, after the first, as if it had arrived second. So is a message
    whose filing found no head of its department, once WeCom was asked. A bug must not
    become a 500, which WeCom would retry three times: the inbound key is kept with an
    apology so retries get the same answer."""
    retried, looked_up = False, frozenset()
    while True:
        if retried or looked_up or sender.has_conversation or sender.has_question:
            # State will be read and changed: take the write transaction now and read the
            # sender again inside it.
            conn.begin()
            sender = load_sender(conn, message.source)
        ctx = Ctx(connection=conn, settings=app.config["SETTINGS"],
                  clock=app.extensions["filingbot.clock"], user=sender, message=message,
                  heads_looked_up=looked_up)
        try:
            app.extensions["filingbot.router"].dispatch(ctx)
            reply_xml = render_reply(ctx, message)
            ctx.flush()
            return ctx, reply_xml
        except HeadsUnknown as unknown:
            # A filing found nobody known to lead its department. WeCom is asked with no
            # transaction open (no lock held while it answers), then the message is handled
            # again from the start, as if it had arrived after the lookup.
            ctx.close()
            conn.rollback()
            if unknown.department_id in looked_up:
                log.error("heads of department %s still unknown after a lookup",
                          unknown.department_id)
                break
            directory.lookup_heads(app.extensions["filingbot.engine"],
                                   app.extensions["filingbot.client"], unknown.department_id)
            looked_up |= {unknown.department_id}
        except Exception as exc:
            ctx.close()
            conn.rollback()
            if isinstance(exc, IntegrityError) and not retried:
                log.info("%s collided with a concurrent message from its sender: handled again",
                         key)
                retried = True
                continue
            log.exception("handler failed for %s", key)
            break
    ctx = Ctx(connection=conn, settings=ctx.settings, clock=ctx.clock, user=sender,
              message=message)
    ctx.reply("error")
    reply_xml = render_reply(ctx, message)
    ctx.flush()
    return ctx, reply_xml


# Built once: every callback runs these, and building a statement costs more than running it.
# They go straight to the driver (bot.direct_sql: through Connection.execute a callback costs
# 28-37 % more worker CPU on SQLite, bench/compare.py).
SENDER_QUERY = DirectStatement(
    select(User.userid, User.name, User.looked_up, User.synced_at, Conversation.userid,
           KeyValue.key)
    .outerjoin(Conversation, Conversation.userid == User.userid)
    .outerjoin(KeyValue, KeyValue.key == literal(QUESTION_PREFIX) + User.userid)
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
