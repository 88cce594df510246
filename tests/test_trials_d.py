"""Issue 14 (what the trials found), items 3 and 12: a card decided while it is on its way ends
greyed out; a 申请 for a name already registered on its platform is flagged, and a name without
the school's name gets a gentle question. Driven through the emulator like every approval test."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import Session

from models import Card, Filing, OutboxMessage
from tests.factories import make_account, make_filing
from tests.wecom import cards, say, sync_and_grant

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


# --- item 12 --------------------------------------------------------------------------------
def apply(name: str, platform: str = "微信公众号") -> str:
    return f"申请\n平台：{platform}\n拟用名称：{name}\n申请理由：宣传\n内容定位：学院动态"


def test_item12_an_application_for_a_name_the_platform_has_is_flagged_to_filer_and_deciders(
        wecom, session):
    make_account(wecom.app, name="西安电大文法学院", platform="WX", external_id="xadd-wf",
                 filing_no="WX-2025-0007")
    summary = say(wecom, "zhangsan", apply("西安电大文法学院"))
    assert "⚠ 微信公众号上已有同名账号：西安电大文法学院（WX-2025-0007，文法学院）" in summary
    assert "“变更”" in summary and "修改 拟用名称" in summary
    assert summary.index("请核对") < summary.index("⚠") < summary.index("回复“确认”提交")
    assert "已提交" in say(wecom, "zhangsan", "确认")  # flagged, not refused
    card = cards(wecom, "liming")[-1]
    assert card["body"]["sub_title_text"] \
        == "注意：同平台已有同名账号 西安电大文法学院（WX-2025-0007，文法学院）"
    filing = session.scalars(select(Filing).where(Filing.kind == "apply")).one()
    assert filing.fields["namesakes"] == ["西安电大文法学院（WX-2025-0007，文法学院）"]
    # the same name on another platform, or a closed account's name, is not a namesake
    assert "已有同名账号" not in say(wecom, "zhangsan", apply("西安电大文法学院", platform="抖音"))
    assert "已提交" in say(wecom, "zhangsan", "确认")
    card = cards(wecom, "liming")[-1]
    assert "#2" in card["body"]["main_title"]["desc"] and "sub_title_text" not in card["body"]


def test_item12_a_closed_account_leaves_its_name_free(wecom):
    make_account(wecom.app, name="西安电大文法学院", platform="WX", external_id="xadd-wf",
                 status="closed")
    assert "已有同名账号" not in say(wecom, "zhangsan", apply("西安电大文法学院"))


def test_item12_a_name_without_the_schools_name_gets_a_gentle_question(wecom):
    summary = say(wecom, "zhangsan", apply("文法新声"))
    assert "❓ 「文法新声」不含学校名称（西安广播电视大学、西安电大）" in summary
    assert "第二条" in summary and "修改 拟用名称" in summary
    asked = say(wecom, "zhangsan", "修改 拟用名称")
    assert "拟用名称" in asked
    summary = say(wecom, "zhangsan", "西安电大文法新声")
    assert "不含学校名称" not in summary and "拟用名称：西安电大文法新声" in summary
    # a 登记 of an existing account is asked the same; 确认 files it all the same
    say(wecom, "zhangsan", "取消")
    summary = say(wecom, "zhangsan", "登记\n平台：抖音\n账号名称：文法学院抖音\n账号ID：wfdy\n"
                  "主页链接：https://www.douyin.com/user/wfdy\n用途：学院新闻")
    assert "❓ 「文法学院抖音」不含学校名称" in summary
    assert "已提交" in say(wecom, "zhangsan", "确认")


def test_item12_the_flag_is_shown_wherever_the_filing_is_read(wecom, session, runner):
    make_account(wecom.app, name="西安电大文法学院", platform="WX", external_id="xadd-wf",
                 filing_no="WX-2025-0007")
    say(wecom, "zhangsan", apply("西安电大文法学院"), "确认")
    filing_id = session.scalars(select(Filing.id).where(Filing.kind == "apply")).one()
    shown = say(wecom, "liming", f"查询 {filing_id}")
    assert "⚠ 同平台已有同名账号：西安电大文法学院（WX-2025-0007，文法学院）" in shown
    assert shown.index("⚠") < shown.index("拟用名称：西安电大文法学院")


# --- words: one history line per change -----------------------------------------------------
def test_confirming_todays_default_closing_day_writes_no_second_history_line(wecom, session):
    from models import AuditLog
    from tests.factories import make_account
    account_id = make_account(wecom.app)  # 管理员 张三
    say(wecom, "zhangsan", "注销\n账号：1\n原因：停止运营", "确认")
    say(wecom, "liming", "同意 1")
    say(wecom, "wangwu", "同意 1")
    card = cards(wecom, "zhangsan")[-1]
    key = next(b["key"] for b in card["body"]["button_list"] if b["text"] == "已注销")
    wecom.as_user("zhangsan").tap(card["task_id"], key)
    wecom.drain()
    assert "哪天" in wecom.texts("zhangsan")[-1]
    today = wecom.app.extensions["filingbot.clock"].local_now().date().isoformat()
    assert today in say(wecom, "zhangsan", "今天")
    rows = session.scalars(select(AuditLog).where(AuditLog.account_id == account_id,
                                                  AuditLog.action == "account:closed_on")).all()
    assert [(r.before, r.after) for r in rows] == [({"closed_on": None}, {"closed_on": today})]
    assert "注销日期 无 → " + today in say(wecom, "zhangsan", "查询 1")
