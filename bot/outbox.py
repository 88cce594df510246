"""Transactional outbox (SPEC §7): messages are rows written with the change that caused them;
a dispatcher delivers them at least once, and a claim with a lease keeps two dispatchers
(threads, gunicorn workers, `outbox drain`) from sending the same row twice.

Delivery: 发送应用消息 (doc 90236) with enable_duplicate_check, so a crash between WeCom's
answer and our `sent` mark is absorbed by WeCom's own duplicate check; card updates through
更新模版卡片消息 (doc 94888)."""

from __future__ import annotations

import logging
import random
import re
import threading
from datetime import datetime, timedelta

import requests
from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session
from wechatpy.exceptions import WeChatClientException

from models import Card, OutboxMessage, SendCount, utcnow

log = logging.getLogger(__name__)

BATCH_LIMIT = 1000  # touser holds at most 1000 userids (doc 90236)
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 12
BACKOFF_CAP = 600  # seconds
# WeCom drops an identical message body sent again within this interval (doc 90236). It must
# cover a retry after a crashed dispatcher's lease (60 s) but stay short: two genuinely separate
# but identical messages (the same long answer asked for twice) must both arrive.
DUPLICATE_CHECK_INTERVAL = 180
# Errcodes after which a retry cannot succeed: the row is dead at once.
PERMANENT_ERRORS = {40003, 40008, 40056, 40058, 44004, 60111, 81013, 48002, 60020}


# --- enqueueing: called inside the business transaction ------------------------------------
def enqueue_text(session: Session, userids: list[str], content: str, *, now: datetime,
                 automatic: bool = False, dedup_key: str | None = None) -> list[OutboxMessage]:
    """Queue a text message to `userids`, one row per 1000 recipients."""
    payload = {"msgtype": "text", "text": {"content": content}}
    return _enqueue(session, "send", userids, payload, now=now, automatic=automatic,
                    dedup_key=dedup_key)


def enqueue_card(session: Session, userids: list[str], card: dict, *, now: datetime,
                 automatic: bool = False, dedup_key: str | None = None) -> list[OutboxMessage]:
    """Queue a template_card; the response code WeCom returns is stored on its Card row."""
    payload = {"msgtype": "template_card", "template_card": card}
    rows = _enqueue(session, "send", userids, payload, now=now, automatic=automatic,
                    dedup_key=dedup_key)
    for row in rows:
        row.card_task_id = card.get("task_id")
    return rows


def enqueue_card_update(session: Session, response_code: str, *, now: datetime,
                        replace_name: str | None = None, card: dict | None = None,
                        userids: list[str] | None = None, task_id: str | None = None,
                        dedup_key: str | None = None) -> OutboxMessage:
    """Queue an update_template_card call (all recipients unless `userids` is given)."""
    payload = {"response_code": response_code, "userids": userids,
               "replace_name": replace_name, "template_card": card}
    row = OutboxMessage(kind="update_card", payload=payload, next_attempt_at=now,
                        created_at=now, dedup_key=dedup_key, card_task_id=task_id)
    session.add(row)
    return row


def _enqueue(session, kind, userids, payload, *, now, automatic, dedup_key):
    unique = list(dict.fromkeys(u for u in userids if u))
    rows = []
    for index in range(0, len(unique), BATCH_LIMIT):
        batch = unique[index:index + BATCH_LIMIT]
        key = dedup_key if index == 0 or dedup_key is None else f"{dedup_key}#{index}"
        row = OutboxMessage(kind=kind, payload={**payload, "touser": batch}, automatic=automatic,
                            next_attempt_at=now, created_at=now, dedup_key=key)
        session.add(row)
        rows.append(row)
    return rows


# --- dispatching ---------------------------------------------------------------------------
class Dispatcher:
    """Claims due rows and delivers them through the WeCom client."""

    def __init__(self, engine, client, clock, *, quiet_hours=None):
        self.engine = engine
        self.client = client
        self.clock = clock
        self.quiet_hours = quiet_hours  # callable(now) -> bool, for automatic messages

    def drain(self, limit: int = 1000) -> dict:
        """Deliver everything due now; return counts of sent, failed and dead rows."""
        counts = {"sent": 0, "failed": 0, "dead": 0, "deferred": 0}
        while True:
            claimed = self.claim(limit=50)
            if not claimed:
                return counts
            for row_id in claimed:
                counts[self.deliver(row_id)] += 1
            if sum(counts.values()) >= limit:
                return counts

    def claim(self, limit: int = 50) -> list[int]:
        """Take a lease on up to `limit` due rows; only rows this call won are returned."""
        now = self.clock.now()
        due = or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
        )
        won = []
        with Session(self.engine) as session:
            query = select(OutboxMessage.id, OutboxMessage.automatic).where(due)
            candidates = session.execute(query.order_by(OutboxMessage.id).limit(limit)).all()
            for row_id, automatic in candidates:
                if automatic and self.quiet_hours and self.quiet_hours(self.clock.now()):
                    continue
                # Compare-and-set: the row is ours only if nobody claimed it meanwhile.
                result = session.execute(
                    update(OutboxMessage).where(OutboxMessage.id == row_id, due)
                    .values(status="sending", lease_until=now + LEASE)
                )
                if result.rowcount == 1:
                    won.append(row_id)
            session.commit()
        return won

    def deliver(self, row_id: int) -> str:
        """Send one claimed row; record the outcome. Returns 'sent', 'failed' or 'dead'."""
        with Session(self.engine) as session:
            row = session.get(OutboxMessage, row_id)
            kind, payload = row.kind, dict(row.payload)
            wait = paced_until(session, payload.get("touser") or [], self.clock.now()) \
                if kind == "send" else None
            session.rollback()
        if wait is not None:
            return self._defer(row_id, wait)
        try:
            result = self._call(kind, payload)
        except WeChatClientException as exc:
            if exc.errcode == 42014 and kind == "send":
                # task_id exists: an earlier try reached WeCom before we could mark it sent.
                return self._mark_sent(row_id, {"note": "task_id already sent"})
            return self._mark_failed(row_id, describe_error(exc),
                                     permanent=exc.errcode in PERMANENT_ERRORS
                                     or (kind == "update_card" and exc.errcode is not None))
        except requests.RequestException as exc:
            return self._mark_failed(row_id, describe_error(exc), permanent=False)
        return self._mark_sent(row_id, result)

    def _call(self, kind: str, payload: dict) -> dict:
        if kind == "update_card":
            return self.client.card.update(
                self.client.agent_id, payload["response_code"], userids=payload.get("userids"),
                atall=not payload.get("userids"), replace_name=payload.get("replace_name"),
                card=payload.get("template_card"),
            )
        body = dict(payload)
        body["touser"] = "|".join(payload["touser"])
        body["enable_duplicate_check"] = 1
        body["duplicate_check_interval"] = DUPLICATE_CHECK_INTERVAL
        return self.client.send_message(body)

    def _mark_sent(self, row_id: int, result: dict) -> str:
        keep = {k: result.get(k) for k in ("msgid", "response_code", "invaliduser", "note")
                if result.get(k)}
        now = self.clock.now()
        with Session(self.engine) as session:
            row = session.get(OutboxMessage, row_id)
            row.status, row.result, row.sent_at, row.lease_until = "sent", keep, now, None
            row.attempts += 1
            row.last_error = None
            if row.kind == "send":
                count_sends(session, row.payload.get("touser") or [], now)
            if row.card_task_id and keep.get("response_code") and row.kind == "send":
                session.execute(
                    update(Card).where(Card.task_id == row.card_task_id)
                    .values(response_code=keep["response_code"], response_code_at=now)
                )
            session.commit()
        return "sent"

    def _defer(self, row_id: int, until: datetime) -> str:
        """Put a row back until a recipient is under WeCom's per-member limits again."""
        with Session(self.engine) as session:
            row = session.get(OutboxMessage, row_id)
            row.status, row.lease_until, row.next_attempt_at = "pending", None, until
            row.last_error = "paced: a recipient reached WeCom's per-member message limit"
            session.commit()
        return "deferred"

    def _mark_failed(self, row_id: int, error: str, *, permanent: bool) -> str:
        now = self.clock.now()
        with Session(self.engine) as session:
            row = session.get(OutboxMessage, row_id)
            row.attempts += 1
            row.last_error = error[:500]
            row.lease_until = None
            if permanent or row.attempts >= MAX_ATTEMPTS:
                row.status = "dead"
                outcome = "dead"
            else:
                row.status = "pending"
                row.next_attempt_at = now + backoff(row.attempts)
                outcome = "failed"
            session.commit()
        log.warning("outbox row %s %s: %s", row_id, outcome, error[:200])
        return outcome


PER_MINUTE, PER_HOUR = 30, 1000  # per app and member; the excess is dropped silently (doc 90236)


def paced_until(session, recipients: list[str], now: datetime) -> datetime | None:
    """When a message to `recipients` may go without exceeding a per-member limit (None: now)."""
    if not recipients:
        return None
    minute = now.replace(second=0, microsecond=0)
    rows = session.execute(
        select(SendCount.userid, SendCount.minute, SendCount.count)
        .where(SendCount.userid.in_(recipients), SendCount.minute > minute - timedelta(hours=1))
    ).all()
    this_minute, this_hour, oldest = {}, {}, {}
    for userid, bucket, count in rows:
        this_hour[userid] = this_hour.get(userid, 0) + count
        oldest[userid] = min(oldest.get(userid, bucket), bucket)
        if bucket == minute:
            this_minute[userid] = count
    if any(count >= PER_HOUR for count in this_hour.values()):
        userid = next(u for u, c in this_hour.items() if c >= PER_HOUR)
        return oldest[userid] + timedelta(hours=1, minutes=1)
    if any(count >= PER_MINUTE for count in this_minute.values()):
        return minute + timedelta(minutes=1)
    return None


def count_sends(session, recipients: list[str], now: datetime) -> None:
    """Add one to this minute's count of each recipient."""
    minute = now.replace(second=0, microsecond=0)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for index in range(0, len(recipients), 500):
        statement = insert(SendCount).values(
            [{"userid": u, "minute": minute, "count": 1} for u in recipients[index:index + 500]])
        session.execute(statement.on_conflict_do_update(
            index_elements=["userid", "minute"], set_={"count": SendCount.count + 1}))


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with full jitter, capped: 1-2 s, 2-4 s, … up to 10 minutes."""
    base = min(2 ** (attempts - 1), BACKOFF_CAP)
    return timedelta(seconds=base + random.uniform(0, base))


SECRET_PARAMS = re.compile(r"(access_token|corpsecret)=[^&\s'\"]+")


def describe_error(exc: Exception) -> str:
    """A one-line description of a failed call, with tokens and secrets removed."""
    if isinstance(exc, WeChatClientException) and exc.errcode is not None:
        text = f"errcode {exc.errcode}: {exc.errmsg}"
    elif isinstance(exc, WeChatClientException):
        status = getattr(exc.response, "status_code", "?")
        text = f"HTTP {status}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return SECRET_PARAMS.sub(r"\1=***", text)


class DispatcherThread:
    """Runs the dispatcher in the web process: woken right after a commit that queued
    messages, and polling every second for rows queued by other processes or due again."""

    def __init__(self, dispatcher: Dispatcher, poll_seconds: float = 1.0):
        self.dispatcher = dispatcher
        self.poll_seconds = poll_seconds
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.stopping = False
        self._start_lock = threading.Lock()

    def start(self) -> None:
        """Start the thread once per process."""
        with self._start_lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="outbox", daemon=True)
                self.thread.start()

    def notify(self) -> None:
        self.wake.set()

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        if self.thread:
            self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopping:
            try:
                self.dispatcher.drain()
            except Exception:  # keep the thread alive; the rows stay in the outbox
                log.exception("outbox dispatcher failed; retrying")
            self.wake.wait(self.poll_seconds)
            self.wake.clear()


KEEP_INBOUND = timedelta(days=7)  # WeCom retries within seconds; a week is plenty
KEEP_SENT = timedelta(days=30)


def prune(engine, now: datetime) -> dict:
    """Delete dedup keys, send counts and delivered messages that can no longer matter."""
    from sqlalchemy import delete

    from models import InboundEvent

    with Session(engine) as session:
        counts = {
            "inbound": session.execute(delete(InboundEvent).where(
                InboundEvent.received_at < now - KEEP_INBOUND)).rowcount,
            "send_counts": session.execute(delete(SendCount).where(
                SendCount.minute < now - timedelta(hours=2))).rowcount,
            "sent": session.execute(delete(OutboxMessage).where(
                OutboxMessage.status == "sent", OutboxMessage.sent_at < now - KEEP_SENT)).rowcount,
        }
        session.commit()
    return counts
