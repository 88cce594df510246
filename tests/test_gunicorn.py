"""The real deployment shape: gunicorn with the shipped config (two threaded workers, each with
its dispatcher thread), WeCom (the emulator) reaching them over HTTP. Twenty office users tap
one card at once."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from bot.wecom.emulator import Phone, http_target
from models import Account, Decision, Filing
from tests.gunicorn_server import SHIPPED_CONFIG, serve, wait_for

OFFICE = [(f"office{i:02d}", f"审批员{i:02d}", "科员", [(2, False)]) for i in range(20)]


@pytest.fixture
def gunicorn(app_env, emulator, tmp_path):
    """The app under gunicorn with the shipped gunicorn.conf.py (threaded workers)."""
    # The served app reads the real clock, and refuses callbacks signed at another time.
    emulator.clock = time.time
    with serve(app_env, tmp_path / "gunicorn.log", *SHIPPED_CONFIG) as url:
        yield url


def test_twenty_taps_on_two_gunicorn_workers(emulator, runner, session, gunicorn):
    emulator.extra_users.extend(OFFICE)
    assert runner.invoke(args=["directory", "sync"]).exit_code == 0
    for userid, *_ in OFFICE:
        runner.invoke(args=["roles", "grant", userid, "office"])
    phone = Phone(emulator, http_target(gunicorn + "/wecom/callback"))
    phone.say("liming", "登记\n平台：抖音\n账号名称：文法视界\n账号ID：wfsj")
    assert "已提交" in phone.say("liming", "确认").text
    assert wait_for(lambda: all(emulator.inbox(u) for u, *_ in OFFICE))  # delivered by the workers
    card = next(m for m in emulator.inbox("office00") if m["msgtype"] == "template_card")
    key = card["body"]["button_list"][0]["key"]
    barrier, replies = threading.Barrier(20), {}
    taps = {u: phone.prepare_tap(u, card["task_id"], key) for u, *_ in OFFICE}  # all at once

    def tap(userid):
        barrier.wait()
        replies[userid] = phone.redeliver(userid, *taps[userid], task_id=card["task_id"])

    threads = [threading.Thread(target=tap, args=(u,)) for u, *_ in OFFICE]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status == 200 for r in replies.values())
    assert session.scalar(select(func.count()).select_from(Decision)) == 1
    winner = session.scalars(select(Decision)).one().decider
    assert session.scalars(select(Filing)).one().status == "approved"
    assert session.scalar(select(func.count()).select_from(Account)) == 1
    losers = [u for u, *_ in OFFICE if u != winner]
    assert wait_for(lambda: all(any("无需重复" in m["body"].get("content", "")
                                    for m in emulator.inbox(u))
                                for u in losers))
    assert wait_for(lambda: emulator.call_count("message/update_template_card") == 1)
    time.sleep(1.5)  # both dispatcher threads poll once more: still nothing sent twice
    assert emulator.call_count("message/update_template_card") == 1
    assert emulator.call_count("message/send") == len(
        {m["msgid"] for u in [*[o[0] for o in OFFICE], "liming", "zhouba", "wujiu"]
         for m in emulator.inbox(u) if m["source"] == "api"})
    for userid in losers:
        assert emulator.card_view(card["task_id"], userid)["replace_name"].startswith("已批准 · ")
