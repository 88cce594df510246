"""Issue 16 item 2: dispatchers claim due rows in batches, one statement each (FOR UPDATE SKIP
LOCKED on PostgreSQL), so any number of them share the outbox and each row goes out once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select, text
from sqlmodel import Session

from bot import outbox
from bot.clock import SHANGHAI
from models import OutboxMessage
from tests.conftest import USE_PG

ROOT = Path(__file__).resolve().parent.parent
# 100 members with 5 messages each: under WeCom's 30 a minute per member, so nothing is paced.
MEMBERS = [(f"member{i:03d}", f"成员{i:03d}", "科员", [(2, False)]) for i in range(100)]
ROWS = 500


@pytest.fixture
def five_hundred(app, clock, emulator):
    """500 queued texts, each with its own content: {userid: [contents]}."""
    emulator.extra_users.extend(MEMBERS)
    expected = {userid: [] for userid, *_ in MEMBERS}
    with Session(app.extensions["filingbot.engine"]) as session:
        for i in range(ROWS):
            userid = MEMBERS[i % len(MEMBERS)][0]
            content = f"第{i}条消息"
            outbox.enqueue_text(session, [userid], content, now=clock.now())
            expected[userid].append(content)
        session.commit()
    return expected


def assert_each_row_delivered_once(app, emulator, expected):
    received = {userid: [m["body"]["content"] for m in emulator.inbox(userid)]
                for userid in expected}
    assert {u: Counter(c) for u, c in received.items()} == \
        {u: Counter(c) for u, c in expected.items()}
    assert emulator.call_count("message/send", errcode=None) == ROWS  # not one call more
    with Session(app.extensions["filingbot.engine"]) as session:
        done = Counter(session.execute(
            select(OutboxMessage.status, OutboxMessage.attempts)).all())
    assert done == {("sent", 1): ROWS}


def test_eight_dispatcher_threads_drain_500_rows_and_each_arrives_once(app, emulator,
                                                                     five_hundred):
    dispatcher = app.extensions["filingbot.dispatcher"]
    barrier, counts, errors = threading.Barrier(8), [], []

    def drain():
        try:
            barrier.wait()
            counts.append(dispatcher.drain())
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=drain) for _ in range(8)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.monotonic() - started
    assert errors == []
    assert sum(c["sent"] for c in counts) == ROWS
    assert sum(1 for c in counts if c["sent"]) > 1  # the work was shared, not done by one
    assert_each_row_delivered_once(app, emulator, five_hundred)
    print(f"8 threads delivered {ROWS} rows in {elapsed:.1f} s")


def test_three_drain_processes_share_500_rows_and_each_arrives_once(app, app_env, emulator,
                                                                  five_hundred):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "DATABASE_URL"))}
    env.update(app_env, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "flask", "--app", "bot", "outbox", "drain"]
    workers = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE) for _ in range(3)]
    outputs = [w.communicate(timeout=180) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    assert_each_row_delivered_once(app, emulator, five_hundred)


def test_a_claim_is_one_update_for_the_whole_batch(app, clock, emulator, five_hundred):
    engine = app.extensions["filingbot.engine"]
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        claimed = app.extensions["filingbot.dispatcher"].claim(limit=50)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    statements = [s for s in statements if "outboxmessage" in s]  # not SQLite's BEGIN
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(claimed) == 50 and len(updates) == 1
    assert "RETURNING" in updates[0].upper()
    if USE_PG:
        assert "FOR UPDATE SKIP LOCKED" in updates[0].upper()
    # SQLite looks first, without its write lock, so an idle poll never queues for it.
    assert len(statements) == (1 if USE_PG else 2)
    with Session(engine) as session:
        leased = session.scalars(select(OutboxMessage.id)
                                 .where(OutboxMessage.status == "sending")).all()
    assert sorted(leased) == claimed == sorted(claimed)


@pytest.mark.skipif(not USE_PG, reason="SKIP LOCKED is PostgreSQL's; SQLite has one writer "
                                       "at a time, so a second claim waits its turn instead")
def test_rows_another_claim_holds_locked_are_skipped_without_waiting(app, five_hundred):
    engine = app.extensions["filingbot.engine"]
    dispatcher = app.extensions["filingbot.dispatcher"]
    with engine.connect() as other:  # another dispatcher, mid-claim on the first ten rows
        held = other.execute(text("SELECT id FROM outboxmessage ORDER BY id LIMIT 10 "
                                  "FOR UPDATE")).scalars().all()
        result = []
        claiming = threading.Thread(target=lambda: result.append(dispatcher.claim(limit=50)))
        claiming.start()
        claiming.join(timeout=10)
        assert not claiming.is_alive(), "the claim waited for the other transaction's locks"
        other.rollback()
    [claimed] = result
    assert not set(held) & set(claimed)
    assert claimed == list(range(max(held) + 1, max(held) + 51))


def test_in_quiet_hours_a_reply_queued_behind_many_reminders_still_goes_out(app, clock, wecom):
    clock.at = datetime(2026, 11, 25, 22, 0, tzinfo=SHANGHAI)  # inside 21:00-08:00
    with Session(app.extensions["filingbot.engine"]) as session:
        for i in range(120):  # more held rows than one claim takes
            outbox.enqueue_text(session, ["zhangsan"], f"提醒{i}", now=clock.now(),
                                automatic=True)
        outbox.enqueue_text(session, ["lisi"], "您的申请已批准", now=clock.now())
        session.commit()
    assert wecom.drain()["sent"] == 1
    assert wecom.texts("lisi") == ["您的申请已批准"]
    assert wecom.texts("zhangsan") == []  # reminders wait for the morning
    clock.at = datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI)
    assert wecom.drain()["sent"] == 30  # then go out, paced at 30 a minute per member
