"""The real deployment shape: gunicorn with two workers, each with its dispatcher thread,
WeCom (the emulator) reaching them over HTTP. Twenty office users tap one card at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from bot.wecom.emulator import Phone, http_target
from models import Account, Decision, Filing

ROOT = Path(__file__).resolve().parent.parent
OFFICE = [(f"office{i:02d}", f"审批员{i:02d}", "科员", [(2, False)]) for i in range(20)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn(app_env, emulator, tmp_path):
    # The served app reads the real clock, and refuses callbacks signed at another time.
    emulator.clock = time.time
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "DATABASE_URL"))}
    env.update(app_env, PYTHONPATH=str(ROOT), OUTBOX_THREAD="1")
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
               "--no-control-socket", "bot:create_app()"]
    # The log goes to a file: a pipe nobody reads would block the workers once it is full.
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or a worker still booting
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("gunicorn did not start: " + log_path.read_text()[-2000:])
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


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
