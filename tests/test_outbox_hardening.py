"""Issue 15, delivery: nothing lost in a long outage, admins told once, `outbox retry` and
`outbox status` (item 4); busy errcodes retried for every kind of row (item 5); WeCom's
duplicate check across a crash and an outage (item 6)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot import outbox
from models import OutboxMessage

CARD = {"card_type": "button_interaction", "task_id": "hardening-task-1",
        "main_title": {"title": "审批"},
        "button_list": [{"text": "同意", "key": "yes", "style": 1},
                        {"text": "驳回", "key": "no", "style": 2}]}


def rows(app) -> list[OutboxMessage]:
    with Session(app.extensions["filingbot.engine"]) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def queue(app, clock, kind: str, **kwargs) -> int:
    """Queue one row of `kind`: a text, a template card, or an update of a sent card."""
    with Session(app.extensions["filingbot.engine"]) as session:
        if kind == "text":
            [row] = outbox.enqueue_text(session, ["zhangsan", "lisi"], "您好", now=clock.now())
        elif kind == "card":
            [row] = outbox.enqueue_card(session, ["zhangsan", "lisi"], CARD, now=clock.now())
        else:
            row = outbox.enqueue_card_update(session, kwargs["response_code"], now=clock.now(),
                                             replace_name="已同意 · 张三")
        session.commit()
        return row.id


def sent_card_code(app, clock, wecom) -> str:
    """Send CARD and return the response code WeCom answered with (single use, 72 h)."""
    queue(app, clock, "card")
    assert wecom.drain()["sent"] == 1
    return rows(app)[-1].result["response_code"]


@pytest.mark.parametrize("errcode", sorted(outbox.RETRYABLE_ERRORS))
@pytest.mark.parametrize("kind", ["text", "card", "update_card"])
def test_item5_busy_errcodes_are_retried_for_every_kind(app, clock, wecom, emulator, kind,
                                                       errcode):
    code = sent_card_code(app, clock, wecom) if kind == "update_card" else None
    row_id = queue(app, clock, kind, response_code=code)
    # 40014/42001 are refreshed and retried once by the client: make both tries fail.
    emulator.fail_next(2 if errcode in (40014, 42001) else 1, "errcode", errcode)
    assert wecom.drain()["failed"] == 1
    row = next(r for r in rows(app) if r.id == row_id)
    assert row.status == "pending" and f"errcode {errcode}" in row.last_error
    clock.advance(minutes=1)
    assert wecom.drain()["sent"] == 1
    assert next(r for r in rows(app) if r.id == row_id).status == "sent"
    if kind == "update_card":  # the other approver's card is greyed out after all
        assert emulator.card_view(CARD["task_id"], "lisi")["replace_name"] == "已同意 · 张三"


@pytest.mark.parametrize("kind", ["text", "update_card"])
def test_item5_permanent_errors_still_stop_at_once(app, clock, wecom, emulator, kind):
    code = sent_card_code(app, clock, wecom) if kind == "update_card" else None
    row_id = queue(app, clock, kind, response_code=code)
    emulator.fail_next(1, "errcode", 81013)  # every recipient outside the visible range
    assert wecom.drain()["dead"] == 1
    assert next(r for r in rows(app) if r.id == row_id).status == "dead"


def test_item5_a_card_that_breaks_a_rule_is_dead_at_once(app, clock, wecom):
    with Session(app.extensions["filingbot.engine"]) as session:
        outbox.enqueue_card(session, ["zhangsan"], {**CARD, "button_list": []}, now=clock.now())
        session.commit()
    assert wecom.drain() == {"sent": 0, "failed": 0, "dead": 1, "deferred": 0}
    assert "errcode 40058" in rows(app)[0].last_error


class WorkerKilled(BaseException):
    """The dispatcher's process dies (kill -9) right after WeCom accepted a message."""


def test_item6_a_send_cut_short_by_a_crash_and_a_two_hour_outage_arrives_once(
        app, clock, wecom, emulator, emulator_server, monkeypatch):
    queue(app, clock, "text")
    client = app.extensions["filingbot.client"]
    real_send = client.send_message

    def send_then_die(body):
        real_send(body)
        raise WorkerKilled
    monkeypatch.setattr(client, "send_message", send_then_die)
    with pytest.raises(WorkerKilled):
        wecom.drain()
    monkeypatch.undo()
    assert rows(app)[0].status == "sending"  # WeCom has it; we never marked it sent
    emulator_server.stop()  # and WeCom is unreachable for two hours
    for _ in range(12):
        clock.advance(minutes=10)
        assert wecom.drain()["sent"] == 0
    emulator_server.start()
    clock.advance(minutes=21)  # the longest backoff: 10 min plus up to 10 min of jitter
    assert wecom.drain()["sent"] == 1
    assert wecom.texts("zhangsan") == ["您好"]  # WeCom's duplicate check absorbed the resend
    assert emulator.call_count("message/send") == 2


def test_item6_identical_messages_hours_apart_both_arrive(app, clock, wecom):
    queue(app, clock, "text")
    wecom.drain()
    clock.advance(hours=2)
    queue(app, clock, "text")
    wecom.drain()
    assert wecom.texts("zhangsan") == ["您好", "您好"]


def test_item6_wecom_keeps_its_maximum_window_and_the_lease_stays_far_below_it(app, clock,
                                                                              wecom):
    from bot.outbox import dispatcher

    ids = [queue(app, clock, "text") for _ in range(3)]
    windows = {dispatcher.duplicate_check_interval(i) for i in ids}
    assert len(windows) == 3 and all(3.5 * 3600 <= w <= 4 * 3600 for w in windows)
    assert dispatcher.LEASE.total_seconds() * 100 <= min(windows)


def admin_texts(wecom) -> list[str]:
    return [t for t in wecom.texts("wujiu") if "消息投递告警" in t]


def test_item4_a_three_day_outage_keeps_retrying_then_admins_are_told_once_when_back(
        app, clock, wecom, emulator_server, runner):
    assert runner.invoke(args=["roles", "grant", "wujiu", "admin"]).exit_code == 0
    queue(app, clock, "text")
    emulator_server.stop()
    assert wecom.drain()["failed"] == 1  # the first failure: 72 h from now
    for hour in range(1, 72):
        clock.advance(hours=1)
        wecom.drain()
        [row] = rows(app)
        assert row.status == "pending", f"dead after {hour} h"
    assert row.attempts > 12  # the old limit: dead after about 40 minutes
    status = runner.invoke(args=["outbox", "status"]).output
    assert "失败重试中：1 条" in status and "连续失败 72 小时后放弃" in status
    clock.advance(hours=1, minutes=1)
    assert wecom.drain()["dead"] == 1
    row = rows(app)[0]
    assert row.status == "dead" and "ConnectionError" in row.last_error
    queue(app, clock, "text")  # something new while WeCom is still down
    wecom.drain()
    emulator_server.start()
    clock.advance(minutes=21)
    wecom.drain()
    [alert] = admin_texts(wecom)
    assert "1 条消息已放弃投递" in alert and "文本消息 1 条" in alert
    assert "ConnectionError" in alert and "outbox retry --dead" in alert
    assert "access_token=" not in alert.replace("access_token=***", "")
    assert wecom.texts("zhangsan") == ["您好"]  # the new one, delivered
    clock.advance(hours=1)
    wecom.drain()
    assert len(admin_texts(wecom)) == 1  # once


def test_item4_rows_dying_while_the_alert_waits_join_that_one_alert(
        app, clock, wecom, emulator_server, runner):
    runner.invoke(args=["roles", "grant", "wujiu", "admin"])
    emulator_server.stop()
    queue(app, clock, "text")
    wecom.drain()
    clock.advance(hours=30)
    queue(app, clock, "text")
    wecom.drain()  # the first row is tried: WeCom is down, the pass ends
    wecom.drain()  # the first backs off: the second is tried
    for _ in range(75):  # the first dies at 72 h, the second 30 h later
        clock.advance(hours=1)
        wecom.drain()
    assert [r.status for r in rows(app)][:2] == ["dead", "dead"]
    emulator_server.start()
    clock.advance(minutes=21)
    wecom.drain()
    [alert] = admin_texts(wecom)
    assert "2 条消息已放弃投递" in alert


def test_item4_outbox_retry_dead_sends_again_and_status_shows_it(app, clock, wecom, emulator,
                                                                 runner):
    queue(app, clock, "text")
    emulator.fail_next(1, "errcode", 60020)  # the server's IP not yet in 企业可信IP: final
    assert wecom.drain()["dead"] == 1
    status = runner.invoke(args=["outbox", "status"])
    assert status.exit_code == 0
    assert "已放弃：1 条" in status.output and "errcode 60020" in status.output
    assert "文本消息，收件人 2 人" in status.output
    assert "access_token" not in status.output
    result = runner.invoke(args=["outbox", "retry"])  # without --dead: the dead stay dead
    assert result.exit_code == 0 and rows(app)[0].status == "dead"
    result = runner.invoke(args=["outbox", "retry", "--dead"])
    assert result.exit_code == 0, result.output
    assert "已将 1 条已放弃的消息重新排队" in result.output and "已发送 1 条" in result.output
    assert wecom.texts("zhangsan") == wecom.texts("lisi") == ["您好"]
    assert "已放弃：0 条" in runner.invoke(args=["outbox", "status"]).output


def test_item4_outbox_retry_brings_backed_off_rows_forward(app, clock, wecom, emulator,
                                                           runner):
    queue(app, clock, "text")
    emulator.fail_next(1, "http500")
    assert wecom.drain()["failed"] == 1
    assert wecom.drain()["sent"] == 0  # backing off
    result = runner.invoke(args=["outbox", "retry"])
    assert "1 条失败待重试的消息改为立即重试" in result.output and "已发送 1 条" in result.output
    assert wecom.texts("zhangsan") == ["您好"]


def test_item4_status_shows_messages_held_for_quiet_hours_and_until_when(app, clock, runner):
    clock.advance(hours=12)  # 22:00 in Shanghai: inside 21:00-08:00
    with Session(app.extensions["filingbot.engine"]) as session:
        outbox.enqueue_text(session, ["zhangsan"], "年检提醒", now=clock.now(), automatic=True)
        outbox.enqueue_text(session, ["lisi"], "回答", now=clock.now())
        session.commit()
    output = runner.invoke(args=["outbox", "status"]).output
    assert "静默时段暂缓：1 条（静默时段至 11-26 08:00，之后发送）" in output
    assert "待发送：1 条" in output


@pytest.mark.parametrize("fault", [81013, 40058])  # invalid recipients; a card rule broken
def test_item4_permanent_errors_still_stop_at_once(app, clock, wecom, emulator, fault):
    queue(app, clock, "card")
    emulator.fail_next(1, "errcode", fault)
    assert wecom.drain() == {"sent": 0, "failed": 0, "dead": 1, "deferred": 0}
    assert rows(app)[0].attempts == 1


def test_item4_an_outage_costs_one_call_per_pass_not_one_per_row(app, clock, wecom,
                                                                 emulator_server):
    for _ in range(5):
        queue(app, clock, "text")
    emulator_server.stop()
    assert wecom.drain() == {"sent": 0, "failed": 1, "dead": 0, "deferred": 0}
    assert [r.status for r in rows(app)] == ["pending"] * 5
    assert [r.attempts for r in rows(app)] == [1, 0, 0, 0, 0]


def test_item4_a_row_sent_again_that_dies_again_is_alerted_again(app, clock, wecom, emulator,
                                                                 runner):
    runner.invoke(args=["roles", "grant", "wujiu", "admin"])
    queue(app, clock, "text")
    emulator.fail_next(1, "errcode", 60020)
    wecom.drain()
    wecom.drain()  # the alert
    emulator.fail_next(1, "errcode", 60020)
    runner.invoke(args=["outbox", "retry", "--dead"])
    wecom.drain()
    assert len(admin_texts(wecom)) == 2
    assert [r.status for r in rows(app)].count("dead") == 1
