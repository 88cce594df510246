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
