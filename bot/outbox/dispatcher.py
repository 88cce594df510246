"""The dispatcher: claims due rows with a lease, delivers them through the WeCom client,
records the outcome, backs off on failure (SPEC §7).

Delivery: 发送应用消息 (doc 90236) with enable_duplicate_check, so a crash between WeCom's
answer and our `sent` mark is absorbed by WeCom's own duplicate check; card updates through
更新模版卡片消息 (doc 94888)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import requests
from sqlalchemy import and_, or_, select, update
from sqlmodel import Session
from wechatpy.exceptions import WeChatClientException

from bot.db import read_only
from bot.outbox.alerts import is_alert, report_dead
from bot.outbox.enqueue import enqueue_card_update
from bot.outbox.errors import backoff, describe_error, is_retryable
from bot.outbox.pacing import count_sends, paced_until
from models import Card, OutboxMessage

log = logging.getLogger(__name__)

# A row is retried (backoff capped at 10 min) until this long after its first failure: the
# life of a card's response code (72 h, doc 94888), so a weekend outage loses nothing.
RETRY_FOR = timedelta(hours=72)
# WeCom does not deliver again a message whose request JSON it received within
# duplicate_check_interval: "默认1800s，最大不超过4小时" (发送应用消息, https://developer.work.
# weixin.qq.com/document/path/90236; "同样内容（请求json）的消息，不会重复收到" in its copy at
# https://qiyeweixin.apifox.cn/api-10061693). A dispatcher killed between WeCom's answer and our
# `sent` mark sends the row again once its lease ends, or once WeCom is back after an outage:
# WeCom's maximum window, 4 h, absorbs that. Two separate but identical messages (the same long
# answer asked for twice) must both arrive, so the interval itself tells rows apart: 4 h minus
# (row id mod 30 min). A row's retry repeats its body byte for byte; two identical rows within
# 4 h share a body only when their ids are 1800 apart.
DUPLICATE_CHECK_MAX = 4 * 3600
DUPLICATE_CHECK_SPREAD = 1800
# The claim lease stays far below the window (and above the HTTP timeout, 10 s): a row whose
# dispatcher died is sent again within a minute, well inside WeCom's duplicate check.
LEASE = timedelta(seconds=60)


class Dispatcher:
    """Claims due rows and delivers them through the WeCom client."""

    def __init__(self, engine, client, clock, *, quiet_hours=None, lease: timedelta = LEASE):
        self.engine = engine
        self.lease = lease
        self.client = client
        self.clock = clock
        self.quiet_hours = quiet_hours  # callable(now) -> bool, for automatic messages

    def drain(self, limit: int = 1000) -> dict:
        """Deliver everything due now; return counts of sent, failed and dead rows.

        When WeCom cannot be reached, the pass ends and the other rows it claimed go back
        untouched: an outage costs one call per pass, not one per queued row. After a pass
        that delivered or gave up on something, admins are told about rows that died."""
        counts = {"sent": 0, "failed": 0, "dead": 0, "deferred": 0}
        try:
            while True:
                claimed = self.claim(limit=50)
                if not claimed:
                    return counts
                for index, row_id in enumerate(claimed):
                    outcome, unreachable = self._deliver(row_id)
                    counts[outcome] += 1
                    if unreachable:
                        self._release(claimed[index + 1:])
                        return counts
                if sum(counts.values()) >= limit:
                    return counts
        finally:
            if counts["sent"] or counts["dead"]:
                report_dead(self.engine, self.clock.now())

    def claim(self, limit: int = 50) -> list[int]:
        """Take a lease on up to `limit` due rows in one statement; returns the ids it won.

        PostgreSQL: UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING id.
        A row another dispatcher is claiming right now is locked, so it is skipped, not waited
        for and not taken twice: any number of dispatchers on any number of hosts share the
        rows. SQLite has one writer at a time (bot.sqlite_lock), so the same UPDATE runs under
        its write lock and FOR UPDATE is left out by SQLAlchemy."""
        now = self.clock.now()
        due = or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
        )
        if self.quiet_hours is not None and self.quiet_hours(now):
            due = and_(due, OutboxMessage.automatic.is_(False))  # reminders wait for morning
        if self.engine.dialect.name == "sqlite" and not self._any_due(due):
            return []
        batch = (select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)
                 .with_for_update(skip_locked=True))
        with self.engine.begin() as conn:
            won = conn.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(batch.scalar_subquery()))
                .values(status="sending", lease_until=now + self.lease)
                .returning(OutboxMessage.id)
            ).scalars().all()
        return sorted(won)

    def _any_due(self, due) -> bool:
        """Whether a row is due, looked up without SQLite's write lock: an idle dispatcher
        polling every second must not queue behind (or hold up) the callbacks."""
        with read_only(self.engine.connect()) as conn:
            found = conn.execute(select(OutboxMessage.id).where(due).limit(1)).first()
            conn.rollback()
        return found is not None

    def deliver(self, row_id: int) -> str:
        """Send one claimed row; record the outcome. Returns 'sent', 'failed' or 'dead'."""
        return self._deliver(row_id)[0]

    def _deliver(self, row_id: int) -> tuple[str, bool]:
        """The outcome, and whether WeCom could not be reached at all (network, HTTP error)."""
        with Session(self.engine) as session:
            row = session.get(OutboxMessage, row_id)
            kind, payload = row.kind, dict(row.payload)
            wait = paced_until(session, payload.get("touser") or [], self.clock.now()) \
                if kind == "send" else None
            session.rollback()
        if wait is not None:
            return self._defer(row_id, wait), False
        try:
            result = self._call(kind, payload, row_id)
        except (WeChatClientException, requests.RequestException) as exc:
            if getattr(exc, "errcode", None) == 42014 and kind == "send":
                # task_id exists: an earlier try reached WeCom before we could mark it sent.
                return self._mark_sent(row_id, {"note": "task_id already sent"}), False
            # The same rule for every kind: a busy WeCom must not kill a card update (the other
            # approvers' cards would stay live), nor a bad recipient keep a row retrying.
            outcome = self._mark_failed(row_id, describe_error(exc),
                                        permanent=not is_retryable(exc))
            return outcome, getattr(exc, "errcode", None) is None
        return self._mark_sent(row_id, result), False

    def _call(self, kind: str, payload: dict, row_id: int) -> dict:
        if kind == "update_card":
            return self.client.card.update(
                self.client.agent_id, payload["response_code"], userids=payload.get("userids"),
                atall=not payload.get("userids"), replace_name=payload.get("replace_name"),
                card=payload.get("template_card"),
            )
        body = dict(payload)
        body["touser"] = "|".join(payload["touser"])
        body["enable_duplicate_check"] = 1
        body["duplicate_check_interval"] = duplicate_check_interval(row_id)
        return self.client.send_message(body)

    def _mark_sent(self, row_id: int, result: dict) -> str:
        keep = {k: result.get(k) for k in ("msgid", "response_code", "invaliduser", "note")
                if result.get(k)}
        now = self.clock.now()
        with Session(self.engine) as session:
            row = session.get(OutboxMessage, row_id)
            row.status, row.result, row.sent_at, row.lease_until = "sent", keep, now, None
            row.attempts += 1
            row.last_error = row.failing_since = None
            if row.kind == "send":
                count_sends(session, row.payload.get("touser") or [], now)
            if row.card_task_id and keep.get("response_code") and row.kind == "send":
                store_response_code(session, row.card_task_id, keep["response_code"], now)
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

    def _release(self, row_ids: list[int]) -> None:
        """Give claimed rows back, untried (no attempt counted), due as they were."""
        if not row_ids:
            return
        with Session(self.engine) as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(row_ids),
                                                        OutboxMessage.status == "sending")
                            .values(status="pending", lease_until=None))
            session.commit()

    def _mark_failed(self, row_id: int, error: str, *, permanent: bool) -> str:
        """Back off, or give up: at once after a permanent error, else RETRY_FOR after the
        first failure of this run (a long WeCom outage loses nothing shorter than that)."""
        now = self.clock.now()
        with Session(self.engine) as session:
            row = session.get(OutboxMessage, row_id)
            row.attempts += 1
            row.last_error = error[:500]
            row.lease_until = None
            row.failing_since = row.failing_since or now
            if permanent or now - row.failing_since >= RETRY_FOR:
                row.status = "dead"
                if is_alert(row):
                    row.alerted_at = now  # no alert about an alert
                outcome = "dead"
            else:
                row.status = "pending"
                row.next_attempt_at = now + backoff(row.attempts)
                outcome = "failed"
            session.commit()
        log.warning("outbox row %s %s: %s", row_id, outcome, error[:200])
        return outcome


def store_response_code(session: Session, task_id: str, code: str, now: datetime) -> None:
    """Keep a sent card's response code for its update; a card whose stage was decided while it
    was on its way (queued → claimed → WeCom → here) is greyed out with the code at once.

    The card row is locked, as close_cards locks it: either the decision sees the code, or this
    sees the decision's closed_text."""
    card = session.scalars(select(Card).where(Card.task_id == task_id).with_for_update()).first()
    if card is None:
        return
    if card.closed_text is None:
        card.response_code, card.response_code_at = code, now
        return
    key = f"close-late:{task_id}"  # once, even if two dispatchers both sent the row
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key)) is None:
        enqueue_card_update(session, code, now=now, replace_name=card.closed_text,
                            task_id=task_id, dedup_key=key)


def duplicate_check_interval(row_id: int) -> int:
    """WeCom's duplicate window for a row: 3.5 to 4 h, the same for every try of the row."""
    return DUPLICATE_CHECK_MAX - row_id % DUPLICATE_CHECK_SPREAD
