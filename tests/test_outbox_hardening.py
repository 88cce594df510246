"""Issue 15, delivery: busy errcodes are retried for every kind of row (item 5)."""

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
    clock.advance(minutes=10)
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
