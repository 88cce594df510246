"""Transactional outbox (SPEC §7): messages are rows written with the change that caused them;
a dispatcher delivers them at least once, and a claim with a lease keeps two dispatchers
(threads, gunicorn workers, `outbox drain`) from sending the same row twice.

Delivery: 发送应用消息 (doc 90236) with enable_duplicate_check, so a crash between WeCom's
answer and our `sent` mark is absorbed by WeCom's own duplicate check; card updates through
更新模版卡片消息 (doc 94888)."""

from bot.outbox.dispatcher import Dispatcher
from bot.outbox.enqueue import (
    BATCH_LIMIT,
    enqueue_card,
    enqueue_card_update,
    enqueue_many,
    enqueue_text,
    release_text,
)
from bot.outbox.errors import RETRYABLE_ERRORS, backoff, describe_error, is_retryable
from bot.outbox.maintenance import prune
from bot.outbox.status import outbox_status, requeue
from bot.outbox.thread import DispatcherThread

__all__ = ["BATCH_LIMIT", "Dispatcher", "DispatcherThread", "RETRYABLE_ERRORS", "backoff",
           "describe_error", "enqueue_card", "enqueue_card_update", "enqueue_many",
           "enqueue_text",
           "is_retryable", "outbox_status", "prune", "release_text", "requeue"]
