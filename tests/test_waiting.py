"""Saying why nothing was sent: `outbox drain`, `reminders run` and the sandbox page name the
messages held for quiet hours (until when), paced by WeCom's limits, or waiting for a retry."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from bot import create_app, outbox
from bot.clock import SHANGHAI
from models import SendCount
from tests.factories import make_account


def queue(app, clock, text="提醒", *, automatic=False, userids=("zhangsan",)):
    with Session(app.extensions["filingbot.engine"]) as s:
        outbox.enqueue_text(s, list(userids), text, now=clock.now(), automatic=automatic)
        s.commit()


def test_drain_in_quiet_hours_says_reminders_wait_until_morning(app, runner, clock, wecom):
    clock.at = datetime(2026, 11, 25, 22, 0, tzinfo=SHANGHAI)
    queue(app, clock, "年检提醒", automatic=True)
    queue(app, clock, "您的申请已批准")  # an answer to what someone did: never held
    result = runner.invoke(args=["outbox", "drain"])
    assert "已发送 1 条" in result.output
    assert ("1 条自动消息（提醒、周报、催办）在免打扰时段（21:00-08:00）暂缓发送，明天 08:00 起发出"
            in result.output)
    assert wecom.texts("zhangsan") == ["您的申请已批准"]


def test_drain_outside_quiet_hours_says_nothing_more(app, runner, clock, wecom):
    queue(app, clock, "年检提醒", automatic=True)
    result = runner.invoke(args=["outbox", "drain"])
    assert result.output.strip().splitlines() == [
        "已发送 1 条，失败待重试 0 条，放弃 0 条，限速顺延 0 条"]


def test_drain_names_paced_and_retried_messages_and_when_they_go(app, runner, clock, wecom,
                                                                  emulator):
    minute = clock.now().replace(second=0, microsecond=0)
    with Session(app.extensions["filingbot.engine"]) as s:
        s.add(SendCount(userid="lisi", minute=minute, count=30))  # lisi's limit this minute
        s.commit()
    queue(app, clock, "给李四", userids=("lisi",))
    queue(app, clock, "给张三")
    emulator.fail_next(1, "http500")
    result = runner.invoke(args=["outbox", "drain"])
    assert "限速顺延 1 条" in result.output and "失败待重试 1 条" in result.output
    next_minute = (minute + timedelta(minutes=1)).astimezone(SHANGHAI).strftime("%H:%M")
    assert (f"1 条消息因企业微信的频率限制（每人每分钟 30 条、每小时 1000 条）顺延，"
            f"{next_minute} 起发出") in result.output
    assert "1 条消息发送失败，等待重试，最早 10:00" in result.output


def test_reminders_run_at_night_says_they_wait_for_the_morning(app, runner, clock):
    assert runner.invoke(args=["directory", "sync"]).exit_code == 0
    make_account(app)
    clock.at = datetime(2027, 1, 6, 21, 30, tzinfo=SHANGHAI)
    result = runner.invoke(args=["reminders", "run"])
    assert "年检提醒 1 项" in result.output
    assert ("2 条自动消息（提醒、周报、催办）在免打扰时段（21:00-08:00）暂缓发送，"
            "明天 08:00 起发出") in result.output


def test_the_sandbox_page_says_what_waits(database_url, tmp_path):
    from bot.sandbox_ui.clock_actions import travel

    app = create_app({"ENV": {"DATABASE_URL": database_url}, "INSTANCE_PATH": str(tmp_path),
                      "OUTBOX_THREAD": False})
    travel(app, date(2027, 1, 5), time(23, 10))
    queue(app, app.extensions["filingbot.clock"], "年检提醒", automatic=True)
    feed = app.test_client().get("/sandbox/feed?as=zhangsan&after=0").get_json()
    assert feed["waiting"] == ("1 条自动消息（提醒、周报、催办）在免打扰时段（21:00-08:00）"
                               "暂缓发送，明天 08:00 起发出。")
    page = app.test_client().get("/sandbox?as=zhangsan").get_data(as_text=True)
    assert "2027年1月5日 周二 23:10（沙箱时间）" in page
    app.extensions["filingbot.engine"].dispose()
