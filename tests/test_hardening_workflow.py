"""Issue #11 (hardening), the items that live in the workflow layer: scope (8), duplicates at
确认 and at approval (2), user values escaped in messages to others (3)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import make_filing
from tests.wecom import say, sync_and_grant

GRANTS = [("wangwu", "office"), ("zhaoliu", "office"), ("zhouba", "publicity"),
          ("zhengshi", "tech")]


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    sync_and_grant(runner, GRANTS)


@pytest.mark.parametrize("command", ["同意", "驳回", "合格", "退回", "整改"])
def test_item8_a_filing_outside_ones_scope_answers_as_if_it_did_not_exist(wecom, command):
    say(wecom, "zhangsan", "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019", "确认")
    say(wecom, "liming", "同意 1")  # decided: the office now waits
    nobody = say(wecom, "liulei", f"{command} 999")
    other_department = say(wecom, "liulei", f"{command} 1 理由")
    assert other_department == nobody
    assert "李明" not in other_department and "已确认" not in other_department


REGISTER = "登记\n平台：微信公众号\n账号名称：{name}\n账号ID：wenfa2019"


def test_item2_two_filings_for_one_id_the_second_is_closed_as_duplicate_at_approval(
        wecom, session, app):
    """Both reached the office before either was approved (the second was confirmed before the
    first was registered): the first approval wins, the second ends as 重复, never stuck."""
    from models import Account, Filing

    first = make_filing(app, submitter="zhangsan", status="awaiting_office", fields={
        "platform": "WX", "name": "文法学院", "external_id": "wenfa2019"})
    second = make_filing(app, submitter="liulei", department_id=6, status="awaiting_office",
                         fields={"platform": "WX", "name": "经管学院", "external_id": "wenfa2019"})
    say(wecom, "wangwu", f"同意 {first}")
    reply = say(wecom, "wangwu", f"同意 {second}")
    assert "已经备案" in reply and "文法学院" in reply and "重复" in reply
    session.expire_all()
    assert session.get(Filing, second).status == "duplicate"
    assert len(session.scalars(select(Account)).all()) == 1
    assert "重复" in wecom.texts("liulei")[-1] and "文法学院" in wecom.texts("liulei")[-1]
    assert "出了问题" not in reply


def test_item2_confirming_an_id_someone_else_filed_since_is_refused_at_confirm(wecom, session):
    """The ID was free when the field was read; at 确认 it is not any more."""
    from models import Filing

    say(wecom, "zhangsan", REGISTER.format(name="文法学院"))  # summary shown, not confirmed
    say(wecom, "liulei", REGISTER.format(name="经管学院"), "确认")
    reply = say(wecom, "zhangsan", "确认")
    assert "正在审核中" in reply and "#1" in reply
    assert len(session.scalars(select(Filing)).all()) == 1


def test_item2_two_people_confirming_one_id_at_the_same_instant_make_one_filing(
        app, app_env, clock, emulator, session):
    """Two app instances (two gunicorn workers), two members, one 账号ID, 确认 at once."""
    import threading

    from bot import create_app
    from models import Filing
    from tests.wecom import WeComActions

    other = WeComActions(create_app({"ENV": app_env, "CLOCK": clock, "OUTBOX_THREAD": False}),
                         emulator)
    mine = WeComActions(app, emulator)
    say(mine, "zhangsan", REGISTER.format(name="文法学院"))
    say(other, "liulei", REGISTER.format(name="经管学院"))
    barrier, replies = threading.Barrier(2), {}

    def confirm(actions, userid):
        barrier.wait()
        replies[userid] = actions.as_user(userid).say("确认").text

    threads = [threading.Thread(target=confirm, args=pair)
               for pair in ((mine, "zhangsan"), (other, "liulei"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(session.scalars(select(Filing)).all()) == 1
    assert sorted("正在审核中" in reply for reply in replies.values()) == [False, True]
    other.app.extensions["filingbot.engine"].dispose()


LINK = '<a href="http://e.vil/x">点此审批</a>'


def test_item3_a_link_in_an_account_name_reaches_others_as_text(wecom, runner, session):
    say(wecom, "zhangsan", f"登记\n平台：微信公众号\n账号名称：{LINK}\n账号ID：wenfa2019", "确认")
    todo = say(wecom, "liming", "待办")
    say(wecom, "liming", "同意 1")
    say(wecom, "wangwu", "同意 1")
    copy = wecom.texts("zhouba")[-1]
    assert "【备案抄送】" in copy or "备案" in copy
    for text in (todo, copy):
        assert "<a" not in text and "&lt;a href=" in text
    runner.invoke(args=["reminders", "run", "--today", "2027-01-04"])  # a Monday: the digest
    wecom.drain()
    assert all("<a" not in text for text in wecom.texts("wangwu"))


@pytest.mark.parametrize("typed", ["@xd\u200bnet", "@xd\u202enet", "\ufeff@xdnet"])
def test_item3_invisible_characters_do_not_make_a_second_account(wecom, session, typed):
    from models import Filing

    say(wecom, "zhangsan", "登记\n平台：抖音\n账号名称：文法抖音\n账号ID：@xdnet", "确认")
    reply = say(wecom, "liulei", f"登记\n平台：抖音\n账号名称：经管抖音\n账号ID：{typed}")
    assert "正在审核中" in reply
    assert len(session.scalars(select(Filing)).all()) == 1


def test_item3_a_line_break_in_a_name_is_refused(wecom):
    say(wecom, "zhangsan", "登记", "1")
    reply = say(wecom, "zhangsan", "文法学院\n点此审批")
    assert "只能填写一行" in reply


def stored_anywhere(session, secret: str) -> list[str]:
    """Tables whose rows mention `secret` (as text)."""
    from sqlalchemy import String, cast

    from models import AuditLog, Conversation, Decision, InboundEvent, OutboxMessage

    found = []
    for model, column in ((Decision, Decision.reason), (InboundEvent, InboundEvent.reply),
                          (AuditLog, cast(AuditLog.after, String)),
                          (Conversation, cast(Conversation.answers, String)),
                          (OutboxMessage, cast(OutboxMessage.payload, String))):
        if session.scalars(select(column).where(column.like(f"%{secret}%"))).first():
            found.append(model.__name__)
    return found


def test_item17_a_password_in_a_oneshot_paste_is_warned_and_stored_nowhere(wecom, session):
    reply = say(wecom, "zhangsan",
                "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019\n密码：Xd2019abc")
    assert "第十三条" in reply
    assert stored_anywhere(session, "Xd2019abc") == []


def test_item17_a_password_in_a_reason_is_not_the_reason(wecom, session):
    say(wecom, "zhangsan", "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019", "确认")
    say(wecom, "liming", "驳回 1")
    assert "第十三条" in say(wecom, "liming", "账号密码：Xd2019abc 请改")
    assert "第十三条" in say(wecom, "liming", "驳回 1 password=Xd2019abc")
    assert stored_anywhere(session, "Xd2019abc") == []
    assert "「名称请用全称」" in say(wecom, "liming", "名称请用全称")  # shown back (item 5)
    assert "已发给" in say(wecom, "liming", "确认")
