"""Reminders over a whole campaign, by moving the clock (SPEC §6)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import reminders
from bot.clock import SHANGHAI
from models import OutboxMessage, ReminderSent
from tests.factories import make_account

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    assert runner.invoke(args=["directory", "sync"]).exit_code == 0
    for userid, role in [("wangwu", "office"), ("zhaoliu", "office")]:
        runner.invoke(args=["roles", "grant", userid, role])


def run_on(app, clock, day: date):
    clock.at = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=10)
    return reminders.run(app, day)


def texts_since(wecom, userid, count):
    return wecom.messages(userid)[count:]


def test_a_whole_campaign(app, wecom, clock, session):
    make_account(app, name="文法学院微信", admins=("zhangsan",))
    make_account(app, name="经管学院抖音", platform="DY", external_id="jg",
                 filing_no="DY-2025-0001", department_id=6, admins=("liulei",))
    assert run_on(app, clock, date(2026, 12, 30)).get("annual", 0) == 0  # before the window
    run_on(app, clock, date(2027, 1, 4))  # a Monday: first reminder and the office digest
    wecom.drain()
    assert ("文法学院微信" in wecom.messages("zhangsan")[-1]
            and "2026 年度" in wecom.messages("zhangsan")[-1])
    assert "点击账号即可开始填写" in wecom.messages("zhangsan")[-1]  # a card, not just text
    assert "经管学院抖音" in wecom.messages("liulei")[-1]
    digest = wecom.messages("wangwu")[-1]
    assert "周报" in digest and "未提交 2" in digest
    assert run_on(app, clock, date(2027, 1, 5))["messages"] == 0  # at most once per 7 days
    run_on(app, clock, date(2027, 1, 11))
    wecom.drain()
    assert "第2次提醒" in wecom.messages("zhangsan")[-1]
    liming_before = len(wecom.messages("liming"))
    # the department files its 年检: nothing more for that account
    wecom.as_user("zhangsan").say("年检\n账号：1\n年度：2026\n发文数量：10\n粉丝数：100\n审核制度：是\n专人管理：是\n安全事件：无")
    wecom.as_user("zhangsan").say("确认")
    wecom.drain()
    zhangsan_count = len(wecom.messages("zhangsan"))
    run_on(app, clock, date(2027, 1, 18))
    wecom.drain()
    assert len(wecom.messages("zhangsan")) == zhangsan_count
    assert "第3次提醒" in wecom.messages("liulei")[-1]
    escalation = wecom.messages("hanmei")[-1]  # head of 经济管理学院, from the third reminder on
    assert "督办" in escalation and "经管学院抖音" in escalation
    assert not any("督办" in t for t in wecom.messages("liming"))  # 文法学院 filed: no escalation
    # but its sign-off waits
    assert any("催办" in t for t in wecom.messages("liming")[liming_before:])
    digest = wecom.messages("wangwu")[-1]
    assert "审核中或整改中 1" in digest and "未提交 1" in digest
    run_on(app, clock, date(2027, 3, 29))  # the last week
    wecom.drain()
    assert "本周截止" in wecom.messages("liulei")[-1]
    run_on(app, clock, date(2027, 4, 1))  # after the window: final report, no reminders
    wecom.drain()
    final = wecom.messages("wangwu")[-1]
    assert "最终报告" in final and "经管学院抖音" in final and "第七条" in final
    assert run_on(app, clock, date(2027, 4, 2))["messages"] == 0  # the final report once


def test_running_twice_on_a_day_sends_nothing_twice(app, wecom, session, clock):
    make_account(app)
    first = run_on(app, clock, date(2027, 1, 6))
    again = run_on(app, clock, date(2027, 1, 6))
    assert first["annual"] == 1 and first["messages"] >= 1
    assert again["messages"] == 0 and again.get("annual", 0) == 0
    wecom.drain()
    assert sum("年检提醒" in t for t in wecom.messages("zhangsan")) == 1


def test_the_reminder_card_starts_the_annual_form_for_its_account(app, wecom, clock, session):
    make_account(app, name="文法学院微信", opened="2020-01")
    run_on(app, clock, date(2027, 1, 4))
    wecom.drain()
    card = [m for m in wecom.inbox("zhangsan") if m["msgtype"] == "template_card"][-1]
    button = card["body"]["button_list"][0]
    wecom.as_user("zhangsan").tap(card["task_id"], button["key"])
    wecom.drain()
    assert "发文数量" in wecom.texts("zhangsan")[-1]
    from models import Conversation
    answers = session.get(Conversation, "zhangsan").answers
    assert answers["account"]["name"] == "文法学院微信" and answers["year"] == 2026


def test_dry_run_queues_nothing(app, runner, session):
    make_account(app)
    result = runner.invoke(args=["reminders", "run", "--today", "2027-01-06", "--dry-run"])
    assert "试运行" in result.output and "年检提醒 1 项" in result.output
    assert session.scalar(select(func.count()).select_from(ReminderSent)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    result = runner.invoke(args=["reminders", "run", "--today", "2027-01-06"])
    assert "年检提醒 1 项" in result.output
    assert "没有需要发送" in runner.invoke(
        args=["reminders", "run", "--today", "2027-01-06"]).output


def test_two_processes_at_once_queue_each_reminder_once(app, app_env, session):
    for i in range(40):
        make_account(app, name=f"账号{i}", external_id=f"a{i}", filing_no=f"WX-2025-{i:04d}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "DATABASE_URL"))}
    env.update(app_env, PYTHONPATH=str(ROOT), OUTBOX_THREAD="0")
    command = [sys.executable, "-m", "flask", "--app", "bot", "reminders", "run",
               "--today", "2027-01-04"]
    procs = [subprocess.Popen(command, env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert session.scalar(select(func.count()).select_from(ReminderSent).where(
        ReminderSent.kind == "annual")) == 40
    texts = session.scalars(select(OutboxMessage.payload)).all()
    annual = [t for t in texts if "年检提醒" in t.get("text", {}).get("content", "")]
    assert len(annual) == 1  # one message for zhangsan, listing all 40 accounts
    assert annual[0]["text"]["content"].count("账号") >= 40


def test_zero_report_stops_the_department_notice(app, wecom, clock, session):
    run_on(app, clock, date(2027, 1, 4))
    wecom.drain()
    assert "零报告" in wecom.messages("gaofeng")[-1]  # 理工学院 has no accounts
    assert "不能零报告" not in wecom.as_user("gaofeng").say("零报告").text
    assert "只" not in wecom.as_user("xuli").say("零报告").text  # staff: told to ask the head
    run_on(app, clock, date(2027, 1, 11))
    wecom.drain()
    digest = wecom.messages("wangwu")[-1]
    assert "零报告部门：理工学院" in digest


def test_approval_nudges_every_two_days_three_times_with_fresh_cards(app, wecom, clock, session):
    wecom.as_user("liming").say("登记\n平台：抖音\n账号名称：文法视界\n账号ID：wfsj")
    wecom.as_user("liming").say("确认")
    wecom.drain()
    start = clock.local_now().date()
    cards_before = len([m for m in wecom.inbox("wangwu") if m["msgtype"] == "template_card"])
    sent = []
    for days in range(0, 12):
        report = run_on(app, clock, start + timedelta(days=days))
        sent.append(report.get("nudge", 0))
    wecom.drain()
    assert sent[:4] == [0, 0, 0, 0] and sum(sent) == 3  # after 3 days, every 2 days, 3 times
    assert [i for i, n in enumerate(sent) if n] == [4, 6, 8]
    nudges = [t for t in wecom.messages("wangwu") if "催办" in t]
    assert len(nudges) == 3 and "已重新发送" in nudges[0]  # the 72 h code had expired
    cards_after = len([m for m in wecom.inbox("wangwu") if m["msgtype"] == "template_card"])
    assert cards_after > cards_before


def test_quiet_hours_hold_automatic_messages_not_replies(app, wecom, clock, session):
    make_account(app)
    run_on(app, clock, date(2027, 1, 6))
    clock.at = datetime(2027, 1, 6, 22, 30, tzinfo=SHANGHAI)  # 22:30 Beijing time
    assert wecom.as_user("zhangsan").say("帮助").text  # a reply is never held back
    wecom.drain()
    assert not any("年检提醒" in t for t in wecom.messages("zhangsan"))
    clock.at = datetime(2027, 1, 7, 8, 1, tzinfo=SHANGHAI)
    wecom.drain()
    assert any("年检提醒" in t for t in wecom.messages("zhangsan"))


def test_directory_drift_asks_heads_for_a_change(app, wecom, emulator, runner, session):
    make_account(app, admins=("zhangsan",))
    emulator.extra_users.clear()
    from bot.wecom.emulator import directory
    moved = [u for u in directory.DEMO_USERS if u[0] != "zhangsan"]
    original = list(directory.DEMO_USERS)
    directory.DEMO_USERS[:] = moved  # zhangsan left the school
    try:
        result = runner.invoke(args=["directory", "sync"])
    finally:
        directory.DEMO_USERS[:] = original
    assert "需办理变更的账号 1 个" in result.output
    wecom.drain()
    assert "请办理变更" in wecom.messages("liming")[-1] and "张三" in wecom.messages("liming")[-1]


def test_the_worker_runs_the_reminders_once_a_day_after_reminder_time(app, clock, session):
    from bot.worker import run_if_due

    make_account(app)
    clock.at = datetime(2027, 1, 6, 8, 59, tzinfo=SHANGHAI)
    assert not run_if_due(app)  # before 09:00
    clock.at = datetime(2027, 1, 6, 9, 1, tzinfo=SHANGHAI)
    assert run_if_due(app)
    assert not run_if_due(app)  # once a day
    assert session.scalar(select(func.count()).select_from(ReminderSent).where(
        ReminderSent.kind == "annual")) == 1
    clock.at = datetime(2027, 1, 7, 9, 30, tzinfo=SHANGHAI)
    assert run_if_due(app)
