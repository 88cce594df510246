"""The sandbox clock: `sandbox today` moves the day every process lives on (chat, cards,
reminders, quiet hours); production ignores it."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import requests
from sqlalchemy import select
from sqlmodel import Session

from bot import create_app
from bot.clock import SHANGHAI, Clock
from bot.sandbox_clock import KEY, SandboxClock
from bot.wecom.emulator import Phone, http_target
from models import Conversation, KeyValue, OutboxMessage, ZeroReport
from tests.gunicorn_server import wait_for

ONE_SHOT = """登记
平台：微信公众号
账号名称：西安电大文法学院
账号ID：wfxy2016
主页链接：https://mp.weixin.qq.com/wfxy
负责人：李明
管理员：张三
用途：发布学院新闻
开通时间：2019年9月"""


def latest_card(emulator, userid: str, title: str):
    cards = [m for m in emulator.inbox(userid)
             if m["msgtype"] == "template_card" and title in m["body"]["main_title"]["title"]]
    return cards[-1] if cards else None


def approve_a_registration(server) -> Phone:
    """zhangsan registers an account; liming confirms, wangwu approves (over HTTP)."""
    emulator = server.emulator
    phone = Phone(emulator, http_target(server.callback))
    assert "请核对" in phone.say("zhangsan", ONE_SHOT).text
    assert "已提交" in phone.say("zhangsan", "确认").text
    for userid, title, button in (("liming", "部门确认", "确认"), ("wangwu", "党政办审核", "批准")):
        card = wait_for(lambda u=userid, t=title: latest_card(emulator, u, t))
        key = next(b["key"] for b in card["body"]["button_list"] if b["text"] == button)
        phone.tap(userid, card["task_id"], key)
    assert wait_for(lambda: any("备案编号" in t for t in texts(emulator, "zhangsan")))
    return phone


def texts(emulator, userid: str) -> list[str]:
    return [m["body"]["content"] for m in emulator.inbox(userid) if m["msgtype"] == "text"]


def test_sandbox_today_moves_chat_cards_and_reminders_of_every_process(sandbox_server,
                                                                       session):
    phone = approve_a_registration(sandbox_server)
    emulator = sandbox_server.emulator

    # Another process moves the clock and runs that day's reminders.
    moved = sandbox_server.flask("sandbox", "today", "2027-01-05", "--at", "10:00",
                                 "--reminders")
    assert moved.returncode == 0, moved.stderr[-2000:]
    assert "2027年1月5日 周二 10:00（沙箱时间）" in moved.stdout
    assert "年检提醒 1 项" in moved.stdout

    # The server lives on that day: it delivers the card queued "at 2027-01-05 10:00" at once,
    # and every phone shows the date.
    card = wait_for(lambda: latest_card(emulator, "zhangsan", "年检提醒"))
    assert card and card["body"]["main_title"]["title"] == "年检提醒：2026 年度"
    feed = requests.get(sandbox_server.url + "/sandbox/feed",
                        params={"as": "zhangsan", "after": "0"}, timeout=10).json()
    assert feed["today"]["date"] == "2027-01-05" and feed["today"]["shifted"]

    # Tapped, the card starts the 2026 report.
    phone.tap("zhangsan", card["task_id"], card["body"]["button_list"][0]["key"])
    assert wait_for(lambda: any("填写 2026 年度检查报告" in t for t in texts(emulator, "zhangsan")))
    assert session.get(Conversation, "zhangsan").answers["year"] == 2026

    # 零报告 from a department without accounts records 2026.
    reply = phone.say("gaofeng", "零报告").text
    assert "2026" in reply
    assert [z.year for z in session.scalars(select(ZeroReport))] == [2026]

    # Back to real time: the clock row says so, and the server follows.
    back = sandbox_server.flask("sandbox", "today", "--reset")
    assert back.returncode == 0 and "沙箱时间" not in back.stdout
    assert wait_for(lambda: not requests.get(
        sandbox_server.url + "/sandbox/feed", params={"as": "zhangsan", "after": "0"},
        timeout=10).json()["today"]["shifted"])


def test_moving_the_clock_back_releases_what_was_queued_in_the_future(database_url, tmp_path):
    app = create_app({"ENV": {"DATABASE_URL": database_url}, "INSTANCE_PATH": str(tmp_path),
                      "OUTBOX_THREAD": False})
    clock = app.extensions["filingbot.clock"]
    runner = app.test_cli_runner()
    assert runner.invoke(args=["sandbox", "today", "2027-06-01"]).exit_code == 0
    from bot import outbox
    with Session(app.extensions["filingbot.engine"]) as s:
        outbox.enqueue_text(s, ["zhangsan"], "来自未来", now=clock.now())
        s.commit()
    assert runner.invoke(args=["sandbox", "today", "--reset"]).exit_code == 0
    with Session(app.extensions["filingbot.engine"]) as s:
        row = s.scalar(select(OutboxMessage))
        assert row.next_attempt_at <= datetime.now(timezone.utc) + timedelta(seconds=5)
    app.extensions["filingbot.engine"].dispose()


def test_production_ignores_the_sandbox_clock(app, app_env, runner, session):
    session.add(KeyValue(key=KEY, value=str(400 * 86400)))
    session.commit()
    production = create_app({"ENV": app_env, "OUTBOX_THREAD": False})
    clock = production.extensions["filingbot.clock"]
    assert type(clock) is Clock and not isinstance(clock, SandboxClock)
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)
    result = production.test_cli_runner().invoke(args=["sandbox", "today", "2027-01-05"])
    assert result.exit_code != 0 and "沙箱模式" in result.output
    assert production.test_client().get("/sandbox").status_code == 404
    production.extensions["filingbot.engine"].dispose()


def test_the_sandbox_clock_sets_quiet_hours_and_wecoms_time(database_url, tmp_path):
    """The dispatcher's quiet hours and the emulated WeCom read the sandbox clock too."""
    app = create_app({"ENV": {"DATABASE_URL": database_url}, "INSTANCE_PATH": str(tmp_path),
                      "OUTBOX_THREAD": False})
    from bot.sandbox_ui.clock_actions import travel
    travel(app, date(2027, 1, 5), datetime(2027, 1, 5, 22, 30).time())
    local = app.extensions["filingbot.clock"].local_now()
    assert (local.date(), local.hour) == (date(2027, 1, 5), 22)
    dispatcher = app.extensions["filingbot.dispatcher"]
    assert dispatcher.quiet_hours(dispatcher.clock.now())  # 22:30 is in 21:00-08:00
    assert abs(app.extensions["filingbot.emulator"].clock()
               - datetime(2027, 1, 5, 22, 30, tzinfo=SHANGHAI).timestamp()) < 60
    app.extensions["filingbot.engine"].dispose()
