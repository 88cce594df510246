"""Issue 14 (what the trials found), items 3 and 12: a card decided while it is on its way ends
greyed out; a 申请 for a name already registered on its platform is flagged, and a name without
the school's name gets a gentle question. Driven through the emulator like every approval test."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import Session

from models import Card, Filing, OutboxMessage
from tests.factories import make_filing
from tests.wecom import say, sync_and_grant

GRANTS = [("wangwu", "office"), ("zhaoliu", "office"), ("zhouba", "publicity"),
          ("zhengshi", "tech"), ("sunqi", "admin")]
OFFICE = ("wangwu", "zhaoliu")


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    sync_and_grant(runner, GRANTS)


def office_card_on_its_way(wecom, session) -> tuple[int, Card, list[int]]:
    """A 登记 the head has just confirmed: its office card is queued, then claimed by a dispatcher
    (the rows it won are returned, not yet sent)."""
    filing_id = make_filing(wecom.app, kind="register", status="awaiting_dept",
                            fields={"platform": "DY", "name": "文法学院抖音", "external_id": "wf1"})
    reply = wecom.as_user("liming").say(f"同意 {filing_id}").text  # queued, not drained
    assert "已确认" in reply, reply
    card = session.scalars(select(Card).where(Card.filing_id == filing_id,
                                              Card.stage == "office")).one()
    claimed = wecom.app.extensions["filingbot.dispatcher"].claim(limit=100)
    with Session(wecom.app.extensions["filingbot.engine"]) as check:
        [row] = check.scalars(select(OutboxMessage).where(
            OutboxMessage.card_task_id == card.task_id)).all()
        assert row.id in claimed and row.status == "sending"
    return filing_id, card, claimed


def assert_greyed_for_every_recipient(emulator, task_id: str, text: str) -> None:
    for userid in OFFICE:
        view = emulator.card_view(task_id, userid)
        assert view is not None, f"{userid} never got the card"
        assert view["replace_name"] == text, (userid, view)


# --- item 3 ---------------------------------------------------------------------------------
def test_item3_a_card_decided_between_its_claim_and_its_delivery_ends_greyed(
        wecom, session, emulator):
    filing_id, card, claimed = office_card_on_its_way(wecom, session)
    # wangwu decides by text while the dispatcher holds the card, before it reaches WeCom
    assert "已批准" in say(wecom, "wangwu", f"批准 {filing_id}")
    dispatcher = wecom.app.extensions["filingbot.dispatcher"]
    for row_id in claimed:
        assert dispatcher.deliver(row_id) == "sent"
    wecom.drain()  # the update queued when the send's response code came back
    assert_greyed_for_every_recipient(emulator, card.task_id, "已批准 · 王五")
    session.expire_all()
    assert session.get(Card, card.id).response_code is None  # used, not kept as live


def test_item3_a_card_decided_after_wecom_took_it_but_before_its_code_was_stored_ends_greyed(
        wecom, session, emulator, monkeypatch):
    filing_id, card, claimed = office_card_on_its_way(wecom, session)
    client = wecom.app.extensions["filingbot.client"]
    real_send = client.send_message

    def send_then_decide(body):
        answer = real_send(body)  # WeCom has delivered it; our `sent` mark comes after
        if body.get("msgtype") == "template_card":
            assert "已批准" in wecom.as_user("zhaoliu").say(f"批准 {filing_id}").text
        return answer
    monkeypatch.setattr(client, "send_message", send_then_decide)
    dispatcher = wecom.app.extensions["filingbot.dispatcher"]
    for row_id in claimed:
        assert dispatcher.deliver(row_id) == "sent"
    monkeypatch.undo()
    wecom.drain()
    assert_greyed_for_every_recipient(emulator, card.task_id, "已批准 · 赵六")
    assert session.get(Filing, filing_id).status == "approved"
    # nothing is greyed twice: one update of the card, from the late code
    assert emulator.call_count("message/update_template_card") == 1


def test_item3_a_card_delivered_before_the_decision_is_still_greyed_once(wecom, session,
                                                                         emulator):
    filing_id, card, claimed = office_card_on_its_way(wecom, session)
    dispatcher = wecom.app.extensions["filingbot.dispatcher"]
    for row_id in claimed:
        dispatcher.deliver(row_id)
    say(wecom, "wangwu", f"批准 {filing_id}")
    assert_greyed_for_every_recipient(emulator, card.task_id, "已批准 · 王五")
    assert emulator.call_count("message/update_template_card") == 1
