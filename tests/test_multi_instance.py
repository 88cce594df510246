"""Issue 16 item 5: several app instances on one PostgreSQL database, as a large deployment runs
them — two gunicorn servers (two workers each, each with its dispatcher thread) and two
`worker` processes, one WeCom (the emulator). The day's campaign goes out while 50 filings are
approved at once through both servers, and a worker is killed (SIGKILL) in the middle of a
delivery: every message still reaches its members exactly once, and no filing number is given
twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from bot.clock import SHANGHAI
from bot.wecom.emulator import Phone, http_target
from bot.wecom.emulator.store import inbox
from models import Account, Decision, Filing, OutboxMessage
from tests.conftest import USE_PG
from tests.factories import make_filing
from tests.gunicorn_server import SHIPPED_CONFIG, serve, start, stop, wait_for
from tests.wecom import say, sync_and_grant

pytestmark = pytest.mark.skipif(
    not USE_PG, reason="several hosts share one PostgreSQL database; SQLite is one host's file")

ADMINS = [(f"admin{i:03d}", f"管理员{i:03d}", "科员", [(2, False)]) for i in range(300)]
TAPPED, TEXTED = 10, 40  # filings decided by card taps (both approvers at once) and by 同意 N
# Submitters by turn: WeCom takes at most 30 messages a minute per member, and the dispatchers
# pace to it (a test that sends one member more waits for the next minute).
HEADS = ["liming", "hanmei", "gaofeng", "qianjin"]
STAFF = [("zhangsan", 5), ("lisi", 5), ("liulei", 6), ("xuli", 7), ("zhangwei", 8)]
# Every process of the deployment: the campaign due now (window all year, run at 00:00), no
# quiet hours, a short lease so the killed worker's rows go out again within the test, small
# pools (other test databases share the server's 100 connections).
DEPLOYMENT = {"REVIEW_WINDOW": "01-01..12-31", "REMINDER_TIME": "00:00",
              "REMINDER_QUIET_HOURS": "", "OUTBOX_LEASE_SECONDS": "15",
              "DB_POOL_SIZE": "3", "DB_MAX_OVERFLOW": "6"}


def worker(app_env: dict, log_path: Path) -> subprocess.Popen:
    """`flask --app bot worker`: the dispatcher, the directory sync and the reminders."""
    return start([sys.executable, "-m", "flask", "--app", "bot", "worker"], app_env, log_path)


def outbox_rows(session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage)))


def sent_to_members(emulator) -> Counter:
    """What reached members' phones through message/send: (userid, msgtype, body) counted."""
    with emulator.engine.connect() as conn:
        rows = conn.execute(select(inbox.c.userid, inbox.c.msgtype, inbox.c.body)
                            .where(inbox.c.source == "api")).all()
    return Counter((u, t, json.dumps(b, sort_keys=True, ensure_ascii=False)) for u, t, b in rows)


def queued_for_members(rows) -> Counter:
    """What the outbox's send rows were for: each recipient once per row."""
    return Counter((u, row.payload["msgtype"],
                    json.dumps(row.payload[row.payload["msgtype"]], sort_keys=True,
                               ensure_ascii=False))
                   for row in rows if row.kind == "send" for u in row.payload["touser"])


def test_two_servers_two_workers_a_kill_and_every_message_arrives_once(
        app, app_env, clock, emulator, wecom, runner, session, tmp_path):
    started = time.monotonic()
    # Served processes read the real clock and check callbacks' signatures against it.
    clock.at = datetime.now(SHANGHAI)
    emulator.clock = time.time
    emulator.extra_users.extend(ADMINS)
    sync_and_grant(runner, [("wangwu", "office"), ("zhaoliu", "office")])
    with Session(app.extensions["filingbot.engine"]) as db:  # the campaign: one card each
        db.add_all(Account(name=f"学院号{i:03d}", platform="WX", external_id=f"college{i:03d}",
                           department_id=2, status="active", filing_no=f"WX-2020-{i:04d}",
                           details={}, admin_userids=[userid])
                   for i, (userid, *_) in enumerate(ADMINS))
        db.commit()
    for i in range(TAPPED):  # registered through the chat: the office gets a card each
        say(wecom, HEADS[i % len(HEADS)], f"登记\n平台：抖音\n账号名称：视界{i}\n账号ID：sj{i}",
            "确认")
    texted = [make_filing(app, kind="register", status="awaiting_office",
                          submitter=STAFF[i % len(STAFF)][0],
                          department_id=STAFF[i % len(STAFF)][1],
                          fields={"platform": "DY", "name": f"院系号{i}", "external_id": f"yx{i}"})
              for i in range(TEXTED)]
    cards = [m for m in emulator.inbox("wangwu") if m["msgtype"] == "template_card"]
    assert len(cards) == TAPPED and not [r for r in outbox_rows(session) if r.status != "sent"]
    before = emulator.call_count("message/send")

    env = {**app_env, **DEPLOYMENT}
    with ExitStack() as stack:
        # Worker A alone runs the campaign and starts delivering it; WeCom hangs in the middle
        # of one of its calls, and A is killed there, holding a claimed batch.
        first = worker(env, tmp_path / "worker-a.log")
        stack.callback(first.kill)
        assert wait_for(lambda: emulator.call_count("message/send") - before >= 40, timeout=30), \
            (tmp_path / "worker-a.log").read_text()[-2000:]
        with emulator.stalled():
            time.sleep(0.5)  # A's next message/send is now waiting inside WeCom
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        leased = [r.id for r in outbox_rows(session) if r.status == "sending"]
        assert leased, "worker A held no claimed rows when it was killed"
        pending = [r for r in outbox_rows(session) if r.status != "sent"]
        assert len(pending) > 100  # most of the campaign is still to go

        # The rest of the deployment: worker B and two servers, all delivering.
        second = worker(env, tmp_path / "worker-b.log")
        stack.callback(stop, second, 15)  # let it finish its pass
        urls = [stack.enter_context(serve(env, tmp_path / f"gunicorn-{n}.log", *SHIPPED_CONFIG))
                for n in (1, 2)]
        phones = [Phone(emulator, http_target(url + "/wecom/callback")) for url in urls]

        # 50 approvals at once: each tapped card by both office members (one on each
        # server), each other filing by 同意 N, servers by turn.
        posts = []
        for card in cards:
            key = next(b["key"] for b in card["body"]["button_list"] if b["text"] == "批准")
            for n, userid in enumerate(("wangwu", "zhaoliu")):
                tap = phones[n].prepare_tap(userid, card["task_id"], key)
                posts.append(lambda p=phones[n], u=userid, t=tap, c=card["task_id"]:
                             p.redeliver(u, *t, task_id=c))
        for i, filing_id in enumerate(texted):
            userid = ("wangwu", "zhaoliu")[i % 2]
            posts.append(lambda p=phones[i % 2], u=userid, f=filing_id: p.say(u, f"同意 {f}"))
        barrier, replies = threading.Barrier(len(posts)), []

        def post(send):
            barrier.wait()
            replies.append(send())

        threads = [threading.Thread(target=post, args=(send,)) for send in posts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert [r.status for r in replies] == [200] * len(posts)

        # A's claimed rows go out again once its lease ends; WeCom's duplicate check absorbs
        # the one A's hung call delivered after all.
        assert wait_for(lambda: all(r.status == "sent" for r in outbox_rows(session)),
                        timeout=45), Counter(r.status for r in outbox_rows(session))
        time.sleep(1.5)  # every dispatcher polls once more: still nothing sent twice
        rows = outbox_rows(session)

    assert {r.status for r in rows} == {"sent"}
    assert sent_to_members(emulator) == queued_for_members(rows)
    campaign = [r for r in rows if r.automatic and r.payload.get("msgtype") == "template_card"]
    assert len(campaign) == len(ADMINS)  # one card per administrator, though two workers ran
    sends = sum(1 for r in rows if r.kind == "send")
    assert emulator.call_count("message/send") == sends + 1  # A's hung call, absorbed
    updates = sum(1 for r in rows if r.kind == "update_card")
    assert emulator.call_count("message/update_template_card") == updates == TAPPED
    assert session.scalar(select(func.count()).select_from(Decision)) == TAPPED + TEXTED
    assert {f.status for f in session.scalars(select(Filing))} == {"approved"}
    numbers = session.scalars(select(Account.filing_no).where(Account.platform == "DY")).all()
    year = clock.local_now().year
    assert sorted(numbers) == [f"DY-{year}-{n:04d}" for n in range(1, TAPPED + TEXTED + 1)]
    print(f"multi-instance run: {time.monotonic() - started:.1f} s, {sends} messages, "
          f"{len(leased)} rows leased by the killed worker")
