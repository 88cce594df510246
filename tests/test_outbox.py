"""Delivery: failures back off and recover, nothing is lost or sent twice, batches of 1000."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot import outbox
from models import OutboxMessage

ROOT = Path(__file__).resolve().parent.parent


def queue_text(app, clock, userids, content, **kwargs):
    with Session(app.extensions["filingbot.engine"]) as session:
        rows = outbox.enqueue_text(session, userids, content, now=clock.now(), **kwargs)
        session.commit()
        return [r.id for r in rows]


def rows(app):
    with Session(app.extensions["filingbot.engine"]) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_queued_message_is_delivered_with_duplicate_check(app, clock, wecom, emulator):
    queue_text(app, clock, ["zhangsan"], "您好")
    assert wecom.drain() == {"sent": 1, "failed": 0, "dead": 0, "deferred": 0}
    assert wecom.texts("zhangsan") == ["您好"]
    [row] = rows(app)
    assert row.status == "sent" and row.result["msgid"] and row.attempts == 1
    assert wecom.drain()["sent"] == 0  # nothing left to send
    assert emulator.call_count("message/send") == 1


def test_http_500_backs_off_and_delivers_exactly_once_after_recovery(app, clock, wecom, emulator):
    queue_text(app, clock, ["zhangsan"], "第一条")
    emulator.fail_next(2, "http500")
    assert wecom.drain() == {"sent": 0, "failed": 1, "dead": 0, "deferred": 0}
    [row] = rows(app)
    assert row.status == "pending" and row.attempts == 1 and "HTTP 500" in row.last_error
    assert wecom.drain()["sent"] == 0  # not due yet: backing off
    clock.advance(seconds=5)
    assert wecom.drain() == {"sent": 0, "failed": 1, "dead": 0, "deferred": 0}
    clock.advance(seconds=10)
    assert wecom.drain() == {"sent": 1, "failed": 0, "dead": 0, "deferred": 0}
    assert wecom.texts("zhangsan") == ["第一条"]
    assert emulator.call_count("message/send") == 1


def test_expired_token_is_refreshed_and_retried_once(app, clock, wecom, emulator):
    queue_text(app, clock, ["zhangsan"], "令牌")
    assert wecom.drain()["sent"] == 1
    emulator.expire_tokens()  # WeCom answers 42001 to the cached token now
    queue_text(app, clock, ["zhangsan"], "令牌过期后")
    assert wecom.drain()["sent"] == 1
    assert wecom.texts("zhangsan") == ["令牌", "令牌过期后"]
    assert emulator.call_count("message/send", errcode=42001) == 1
    assert emulator.call_count("gettoken") == 2


def test_an_injected_42001_is_retried_with_a_fresh_token(app, clock, wecom, emulator):
    queue_text(app, clock, ["lisi"], "重试")
    emulator.fail_next(1, "errcode", 42001)
    assert wecom.drain()["sent"] == 1
    assert wecom.texts("lisi") == ["重试"]
    assert emulator.call_count("message/send") == 1


def test_wecom_down_loses_nothing_and_sends_once_when_back(app, clock, wecom, emulator_server):
    queue_text(app, clock, ["zhangsan"], "宕机期间")
    emulator_server.stop()
    assert wecom.drain() == {"sent": 0, "failed": 1, "dead": 0, "deferred": 0}
    [row] = rows(app)
    assert row.status == "pending" and "ConnectionError" in row.last_error
    assert "access_token=" not in row.last_error or "access_token=***" in row.last_error
    emulator_server.start()
    clock.advance(minutes=1)
    assert wecom.drain()["sent"] == 1
    assert wecom.texts("zhangsan") == ["宕机期间"]


def test_permanent_errors_go_dead_at_once(app, clock, wecom):
    queue_text(app, clock, ["nobody_here"], "无人")
    assert wecom.drain() == {"sent": 0, "failed": 0, "dead": 1, "deferred": 0}
    [row] = rows(app)
    assert row.status == "dead" and "81013" in row.last_error


def test_recipients_are_batched_1000_per_call(app, clock):
    userids = [f"user{i:04d}" for i in range(2500)]
    queue_text(app, clock, userids + userids[:10], "批量")
    batches = [r.payload["touser"] for r in rows(app)]
    assert [len(b) for b in batches] == [1000, 1000, 500]
    assert sorted(sum(batches, [])) == sorted(userids)


def test_a_dedup_key_makes_enqueueing_idempotent(app, clock):
    import pytest
    from sqlalchemy.exc import IntegrityError

    queue_text(app, clock, ["zhangsan"], "一次", dedup_key="reminder:1")
    with pytest.raises(IntegrityError):
        queue_text(app, clock, ["zhangsan"], "一次", dedup_key="reminder:1")
    assert len(rows(app)) == 1


def test_two_dispatcher_processes_never_send_a_row_twice(app, app_env, clock, emulator):
    demo = ["zhangsan", "lisi", "liulei", "xuli", "hanmei"]
    for i in range(120):
        queue_text(app, clock, [demo[i % len(demo)]], f"消息{i}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "DATABASE_URL"))}
    env.update(app_env)
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "flask", "--app", "bot", "outbox", "drain"]
    workers = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    assert emulator.call_count("message/send") == 120
    received = sum((wecom_texts(emulator, u) for u in demo), [])
    assert sorted(received) == sorted(f"消息{i}" for i in range(120))
    assert {r.status for r in rows(app)} == {"sent"}


def wecom_texts(emulator, userid):
    return [m["body"]["content"] for m in emulator.inbox(userid)]


def test_the_access_token_is_shared_through_the_database(app, app_env, clock, emulator):
    from bot import create_app

    other = create_app({"ENV": app_env, "CLOCK": clock, "OUTBOX_THREAD": False})
    queue_text(app, clock, ["zhangsan"], "甲")
    app.extensions["filingbot.dispatcher"].drain()
    queue_text(app, clock, ["zhangsan"], "乙")
    other.extensions["filingbot.dispatcher"].drain()
    assert emulator.call_count("gettoken") == 1
    assert wecom_texts(emulator, "zhangsan") == ["甲", "乙"]
    other.extensions["filingbot.engine"].dispose()


def test_the_background_thread_delivers_without_a_drain(app_env, clock, emulator):
    import time

    from bot import create_app
    from tests.wecom import WeComActions

    app = create_app({"ENV": app_env, "CLOCK": clock, "OUTBOX_THREAD": True})
    wecom = WeComActions(app, emulator)

    def notify(ctx):
        ctx.send(["lisi"], "raw", text="通知李四")
        ctx.reply("raw", text="好的")
    app.extensions["filingbot.router"].command("通知")(notify)
    started = time.monotonic()
    assert wecom.as_user("zhangsan").say("通知").text == "好的"
    while not wecom.texts("lisi") and time.monotonic() - started < 5:
        time.sleep(0.05)
    assert wecom.texts("lisi") == ["通知李四"]  # woken by the commit, not by a drain call
    app.extensions["filingbot.dispatcher_thread"].stop()
    app.extensions["filingbot.engine"].dispose()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dispatcher_thread_that_died_is_started_again_by_the_next_request(app_env, clock,
                                                                           emulator):
    import time

    from bot import create_app
    from tests.wecom import WeComActions

    app = create_app({"ENV": app_env, "CLOCK": clock, "OUTBOX_THREAD": True})
    wecom = WeComActions(app, emulator)
    thread = app.extensions["filingbot.dispatcher_thread"]
    real_drain = thread.dispatcher.drain
    deaths = []

    def drain_that_dies_once(*args, **kwargs):
        if not deaths:
            deaths.append(1)
            raise SystemExit  # not an Exception: the loop does not catch it, the thread ends
        return real_drain(*args, **kwargs)
    thread.dispatcher.drain = drain_that_dies_once

    def notify(ctx):
        ctx.send(["lisi"], "raw", text="通知李四")
        ctx.reply("raw", text="好的")
    app.extensions["filingbot.router"].command("通知")(notify)
    assert wecom.as_user("zhangsan").say("帮助").text  # starts the thread, which dies
    first = thread.thread
    first.join(timeout=5)
    assert deaths and not first.is_alive()
    started = time.monotonic()
    assert wecom.as_user("zhangsan").say("通知").text == "好的"
    while not wecom.texts("lisi") and time.monotonic() - started < 5:
        time.sleep(0.05)
    assert wecom.texts("lisi") == ["通知李四"]
    assert thread.thread is not first and thread.thread.is_alive()
    thread.stop()
    app.extensions["filingbot.engine"].dispose()


def test_the_dispatcher_paces_to_30_messages_a_minute_per_member(app, clock, wecom):
    for i in range(35):
        queue_text(app, clock, ["zhangsan"], f"第{i}条")
    assert wecom.drain() == {"sent": 30, "failed": 0, "dead": 0, "deferred": 5}
    assert len(wecom.texts("zhangsan")) == 30  # WeCom would have dropped the rest silently
    clock.advance(minutes=1)
    assert wecom.drain()["sent"] == 5
    assert wecom.texts("zhangsan") == [f"第{i}条" for i in range(35)]


def test_a_member_at_the_limit_does_not_hold_up_others(app, clock, wecom):
    for i in range(31):
        queue_text(app, clock, ["zhangsan"], f"张{i}")
    queue_text(app, clock, ["lisi"], "李")
    wecom.drain()
    assert wecom.texts("lisi") == ["李"]


def test_identical_messages_minutes_apart_both_arrive(app, clock, wecom):
    queue_text(app, clock, ["zhangsan"], "同样的内容")
    wecom.drain()
    clock.advance(minutes=4)
    queue_text(app, clock, ["zhangsan"], "同样的内容")
    wecom.drain()
    assert wecom.texts("zhangsan") == ["同样的内容", "同样的内容"]


def test_a_resend_of_the_same_body_soon_after_is_absorbed_by_wecom(app, clock, wecom, emulator):
    client = app.extensions["filingbot.client"]
    body = {"touser": "zhangsan", "msgtype": "text", "text": {"content": "一次"},
            "enable_duplicate_check": 1, "duplicate_check_interval": 180}
    first = client.send_message(body)
    again = client.send_message(body)  # e.g. after a crash between WeCom's answer and `sent`
    assert again["msgid"] == first["msgid"]
    assert wecom.texts("zhangsan") == ["一次"]
