"""Issue 14 (what the trials found), items 5, 8, 9, 10 and 11: the reason question, 变更 old →
new, 注销 confirmed on the platform, deadlines of 限期整改 and ordered closures, 举报 outcomes
and their escalation. Driven through the emulator like every approval test."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Decision, Filing
from tests.factories import make_filing
from tests.wecom import EVERY_ROLE, cards, say, sync_and_grant, tap


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    sync_and_grant(runner, EVERY_ROLE)


def texts(wecom, userid):
    return wecom.texts(userid)


def registration(app, n: int) -> int:
    """A 登记 waiting for the department's head (liming)."""
    return make_filing(app, kind="register", status="awaiting_dept", submitter="zhangsan",
                       fields={"platform": "DY", "name": f"文法{n}", "external_id": f"wf{n}"})


# --- item 5 ---------------------------------------------------------------------------------
def test_item5_a_reply_is_not_taken_as_the_reason_unasked(wecom, session, clock):
    first, second, third = (registration(wecom.app, n) for n in (1, 2, 3))
    asked = say(wecom, "liming", f"退回 {first}")
    assert "张三" in asked and "跳过" in asked and "取消" in asked  # who reads it, how to stop
    # "好的，收到" is shown back, not sent
    reply = say(wecom, "liming", "好的，收到")
    assert "「好的，收到」" in reply and "确认" in reply
    assert not any("好的，收到" in t for t in texts(wecom, "zhangsan"))
    assert "没有发送" in say(wecom, "liming", "取消")
    assert not any("好的，收到" in t for t in texts(wecom, "zhangsan"))
    told = texts(wecom, "zhangsan")[-1]  # the return and its (missing) reason: one message
    assert f"#{first}" in told and "退回" in told and "李明未填写理由" in told
    assert session.scalar(select(Decision.reason).where(Decision.filing_id == first)) == ""
    # a real reason, corrected once, then confirmed
    say(wecom, "liming", f"退回 {second}", "账号名称写全")
    reply = say(wecom, "liming", "账号名称请用全称")
    assert "「账号名称请用全称」" in reply
    assert "已发给张三" in say(wecom, "liming", "确认")
    assert "账号名称请用全称" in texts(wecom, "zhangsan")[-1]
    assert not any("账号名称写全" in t for t in texts(wecom, "zhangsan"))
    assert session.scalar(select(Decision.reason).where(Decision.filing_id == second)) \
        == "账号名称请用全称"
    # the question expires: a draft left unconfirmed is never sent
    say(wecom, "liming", f"退回 {third}", "材料不全")
    clock.advance(minutes=31)
    reply = say(wecom, "liming", "确认")
    assert "已作废" in reply and "材料不全" in reply and "没有正在填写" in reply
    assert not any("材料不全" in t for t in texts(wecom, "zhangsan"))
    assert session.scalar(select(Decision.reason).where(Decision.filing_id == third)) == ""
    assert session.get(Filing, third).status == "returned"


# --- item 11 --------------------------------------------------------------------------------
REPORT = ("举报\n平台：新浪微博\n账号名称：西安电大招生\n链接：https://weibo.com/u/1\n"
          "情况说明：冒充招生")


def run_reminders(app, clock, day):
    from datetime import datetime, timedelta

    from bot import reminders
    from bot.clock import SHANGHAI
    clock.at = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=10)
    return reminders.run(app, day)


def test_item11_a_stalled_report_reaches_the_office_and_the_reporter_hears_the_outcome(
        app, wecom, session, clock):
    from datetime import timedelta
    say(wecom, "xuli", REPORT, "确认")
    card = cards(wecom, "zhengshi")[-1]
    assert [b["text"] for b in card["body"]["button_list"]] == [
        "已联系平台处理", "已报告主管部门", "非冒用", "查看详情"]
    start = clock.local_now().date()
    reports = [run_reminders(app, clock, start + timedelta(days=d)) for d in range(1, 21)]
    run_reminders(app, clock, start + timedelta(days=20))  # a rerun the same day
    wecom.drain()
    assert sum(r.get("nudge", 0) for r in reports) == 3
    assert sum(r.get("stalled", 0) for r in reports) == 1  # after the nudges, once
    stalled = [t for t in texts(wecom, "wangwu") if "督办" in t]
    assert len(stalled) == 1 and "冒用举报核查" in stalled[0] and "催办 3 次" in stalled[0]
    assert [t for t in texts(wecom, "zhaoliu") if "督办" in t] == stalled
    tap(wecom, "zhengshi", "已报告主管部门", cards(wecom, "zhengshi")[-1])
    filing = session.scalars(select(Filing)).one()
    assert filing.status == "done"
    assert "已报告主管部门" in texts(wecom, "xuli")[-1]
    assert "已报告主管部门" in say(wecom, "xuli", f"查询 {filing.id}")


# --- item 8 ---------------------------------------------------------------------------------
REGISTER = "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019\n用途：学院新闻"


def card_rows(card):
    return {r["keyname"]: r["value"] for r in card["body"]["horizontal_content_list"]}


def test_item8_a_change_shows_old_to_new_and_may_rename_the_account(wecom, session):
    from models import Account
    say(wecom, "zhangsan", REGISTER, "确认")  # 负责人 李明 (the head), 管理员 张三 (by default)
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "批准")
    say(wecom, "zhangsan", "变更\n账号：WX-2026-0001\n新负责人：lisi\n新管理员：李四、张三\n"
        "新名称：西安电大文法学院\n原因：学院更名", "确认")
    rows = card_rows(cards(wecom, "liming")[-1])
    assert rows["新负责人"] == "李明 → 李四"
    assert rows["新管理员"] == "张三 → 李四、张三"
    assert rows["新名称"] == "文法学院 → 西安电大文法学院"
    tap(wecom, "liming", "确认")
    assert card_rows(cards(wecom, "wangwu")[-1])["新负责人"] == "李明 → 李四"
    tap(wecom, "wangwu", "批准")
    told = texts(wecom, "zhangsan")[-1]
    assert "负责人：李明 → 李四" in told and "名称：文法学院 → 西安电大文法学院" in told
    assert "管理员：张三 → 李四、张三" in texts(wecom, "zhouba")[-1]  # publicity's copy
    session.expire_all()
    account = session.scalars(select(Account)).one()
    assert account.name == "西安电大文法学院" and account.details["leader"]["userid"] == "lisi"
    assert account.admin_userids == ["lisi", "zhangsan"]
    # a new ID: checked by the same rules as 登记's, and not another account's
    make_account_with_id(wecom.app, "taken2026")
    assert "微信号" in say(wecom, "zhangsan", "变更\n账号：1\n新账号ID：1bad\n原因：换号")
    taken = say(wecom, "zhangsan", "取消", "变更\n账号：1\n新账号ID：taken2026\n原因：换号")
    assert "已由“另一个号”" in taken
    say(wecom, "zhangsan", "取消", "变更\n账号：1\n新账号ID：wenfa2026\n原因：换号", "确认")
    tap(wecom, "liming", "确认")
    assert card_rows(cards(wecom, "wangwu")[-1])["新账号ID"] == "wenfa2019 → wenfa2026"
    tap(wecom, "wangwu", "批准")
    session.expire_all()
    assert session.get(Account, account.id).external_id == "wenfa2026"
    # the account's 负责人/管理员 over time, and what each change changed
    history = say(wecom, "zhangsan", "查询 WX-2026-0001")
    assert "负责人/管理员" in history and "更新负责人/管理员" not in history
    assert "负责人：李明｜管理员：张三" in history
    assert "负责人：李四｜管理员：李四、张三" in history
    assert "名称：文法学院 → 西安电大文法学院" in history
    assert "账号ID：wenfa2019 → wenfa2026" in history


def make_account_with_id(app, external_id):
    from tests.factories import make_account
    return make_account(app, name="另一个号", external_id=external_id, filing_no="WX-2025-0099",
                        department_id=6)


# --- item 9 ---------------------------------------------------------------------------------
def test_item9_a_closure_is_confirmed_with_a_date_by_whoever_keeps_the_account(
        app, wecom, session, clock):
    from datetime import timedelta

    from models import Account
    from tests.factories import make_account
    account_id = make_account(app)  # 管理员 张三
    built = make_account(app, name="文法新声", external_id="wfxs2026", filing_no="WX-2026-0005")
    make_filing(app, kind="apply", status="approved", account_id=built,
                fields={"platform": "WX", "name": "文法新声"})  # an account tech built
    say(wecom, "zhangsan", "注销\n账号：1\n原因：停止运营", "确认")
    tap(wecom, "liming", "确认")
    assert "注销中" in say(wecom, "zhaoliu", "同意 2")
    filing = session.scalar(select(Filing).where(Filing.kind == "close"))
    assert filing.status == "awaiting_closure"
    assert session.get(Account, account_id).status == "closing"
    assert "已在平台上注销" not in texts(wecom, "zhangsan")[-1]
    assert "注销中" in texts(wecom, "zhangsan")[-1]
    # still in the registry's view, as 注销中; a second 注销 or a 年检 is not possible
    assert "文法学院微信｜微信公众号｜WX-2025-0001｜注销中" in say(wecom, "zhangsan", "查询")
    assert "注销中" in say(wecom, "wangwu", "查询 WX-2025-0001")
    assert "正在注销" in say(wecom, "zhangsan", "注销\n账号：WX-2025-0001\n原因：再来一次")
    say(wecom, "zhangsan", "取消")
    # the administrator (who filed it, too) confirms on the card, with the day
    card = cards(wecom, "zhangsan")[-1]
    assert card["body"]["main_title"]["title"].startswith("确认账号已注销")
    assert [b["text"] for b in card["body"]["button_list"]] == ["已注销", "查看详情"]
    tap(wecom, "zhangsan", "已注销", card)
    assert "哪天" in texts(wecom, "zhangsan")[-1]
    assert "还没到" in say(wecom, "zhangsan", "2030-01-01")
    assert "2026-11-20" in say(wecom, "zhangsan", "11月20日")
    session.expire_all()
    account = session.get(Account, account_id)
    assert (account.status, account.details["closed_on"]) == ("closed", "2026-11-20")
    assert session.get(Filing, filing.id).status == "approved"
    # an account tech built is confirmed by tech; nobody confirming reaches the office
    say(wecom, "zhangsan", "注销\n账号：WX-2026-0005\n原因：合并", "确认")
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "批准")
    assert cards(wecom, "chenyi")[-1]["body"]["main_title"]["title"].startswith("确认账号已注销")
    assert len([c for c in cards(wecom, "zhangsan")
                if c["body"]["main_title"]["title"].startswith("确认账号已注销")]) == 1
    start = clock.local_now().date()
    for d in range(1, 12):
        run_reminders(app, clock, start + timedelta(days=d))
    wecom.drain()
    assert len([t for t in texts(wecom, "chenyi") if "催办" in t]) == 3
    assert any("督办" in t and "确认账号已注销" in t for t in texts(wecom, "wangwu"))
    assert session.get(Account, built).status == "closing"


# --- item 10 --------------------------------------------------------------------------------
ANNUAL = ("年检\n账号：{account}\n年度：2025\n发文数量：120\n粉丝数：3000\n审核制度：是\n"
          "专人管理：是\n安全事件：无")


def test_item10_a_rectification_has_a_deadline_with_reminders_until_the_new_review_passes(
        app, wecom, session, clock):
    from datetime import date, timedelta

    from models import Account, ReminderSent
    from tests.factories import make_account
    make_account(app)  # 管理员 张三
    say(wecom, "zhangsan", ANNUAL.format(account="WX-2025-0001"), "确认")
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "限期整改")
    assert "整改期限默认为 2026-12-25" in texts(wecom, "wangwu")[-1]  # 30 days
    assert "限期整改" not in texts(wecom, "zhangsan")[-1]  # told once, with the requirement
    confirm = say(wecom, "wangwu", "2026-12-10 补齐信息审核记录")
    assert "「补齐信息审核记录」" in confirm and "整改期限：2026-12-10" in confirm
    assert "期限 2026-11-20 不在今天之后" in say(wecom, "wangwu", "2026-11-20 补齐")
    say(wecom, "wangwu", "12月10日前，补齐信息审核记录", "确认")
    filing = session.scalars(select(Filing)).one()
    assert (filing.status, filing.due_on) == ("returned", date(2026, 12, 10))
    for userid in ("zhangsan", "liming"):
        told = texts(wecom, userid)[-1]
        assert "补齐信息审核记录" in told and "整改期限：2026-12-10" in told
    assert "期限：2026-12-10" in say(wecom, "zhangsan", f"查询 {filing.id}")
    # before the deadline the administrator, after it the head and the office too
    start = date(2026, 11, 26)
    for d in range(0, 18):
        run_reminders(app, clock, start + timedelta(days=d))
        if start + timedelta(days=d) == date(2026, 12, 11):
            run_reminders(app, clock, date(2026, 12, 11))  # a rerun sends nothing twice
    wecom.drain()
    reminders = [t for t in texts(wecom, "zhangsan") if "整改期限提醒" in t]
    assert len(reminders) == 3
    assert "还有 7 天" in reminders[0] and "明天到期" in reminders[1]
    assert "已逾期 1 天" in reminders[2]
    sent = session.scalars(select(ReminderSent.sent_on).where(ReminderSent.kind == "deadline")
                           .order_by(ReminderSent.seq)).all()
    assert sent == [date(2026, 12, 3), date(2026, 12, 9), date(2026, 12, 11)]
    for userid in ("liming", "wangwu", "zhaoliu"):
        overdue = [t for t in texts(wecom, userid) if "逾期督办" in t]
        assert len(overdue) == 1 and "张三" in overdue[0], userid
    # the new 年检 passes: the case is closed, the reminders stop
    say(wecom, "zhangsan", ANNUAL.format(account="WX-2025-0001"), "确认")
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "合格")
    session.expire_all()
    assert session.get(Filing, filing.id).due_on is None
    assert session.scalars(select(Account)).one().last_review_year == 2025
    report = run_reminders(app, clock, date(2026, 12, 20))
    assert report.get("deadline", 0) == 0


def test_item10_an_ordered_closure_has_a_deadline_reminded_the_same_way(
        app, wecom, session, clock):
    from datetime import date, timedelta

    from tests.factories import make_account
    make_account(app)  # 管理员 张三
    say(wecom, "zhangsan", ANNUAL.format(account="WX-2025-0001"), "确认")
    annual = session.scalars(select(Filing)).one()
    say(wecom, "liming", f"同意 {annual.id}")
    say(wecom, "wangwu", f"不合格 {annual.id} 60天内 多次发布未经审核的信息")
    case = session.scalar(select(Filing).where(Filing.status == "ordered"))
    assert case.due_on == date(2027, 1, 24)
    assert "2027-01-24 前" in texts(wecom, "liming")[-1]
    assert "多次发布未经审核的信息" in texts(wecom, "zhangsan")[-1]
    run_reminders(app, clock, date(2027, 1, 17))
    run_reminders(app, clock, date(2027, 1, 25))
    wecom.drain()
    reminders = [t for t in texts(wecom, "zhangsan") if "注销期限提醒" in t]
    assert len(reminders) == 2 and "还有 7 天" in reminders[0]
    assert any("逾期督办" in t and "注销期限" in t for t in texts(wecom, "wangwu"))
    # the account closed and confirmed: the case is done, nothing more is sent
    say(wecom, "zhangsan", "注销\n账号：WX-2025-0001\n原因：年检不合格", "确认")
    closing = session.scalar(select(Filing).where(Filing.kind == "close", Filing.id != case.id))
    say(wecom, "liming", f"同意 {closing.id}")
    say(wecom, "wangwu", f"同意 {closing.id}")
    say(wecom, "zhangsan", f"同意 {closing.id}", "今天")
    session.expire_all()
    assert session.get(Filing, case.id).status == "done"
    assert run_reminders(app, clock, date(2027, 1, 26) + timedelta(days=1)).get("deadline", 0) == 0


@pytest.mark.parametrize(("text", "due", "rest"), [
    ("3月31日前补齐审核记录", "2027-03-31", "补齐审核记录"),
    ("2026-12-31 补齐", "2026-12-31", "补齐"),
    ("６０天内，整改", "2027-01-24", "整改"),
    ("12.5万粉丝数据不实", None, "12.5万粉丝数据不实"),  # a number, not a day
    ("2025年度数据不全", None, "2025年度数据不全"),
])
def test_item10_a_deadline_is_read_from_the_start_of_the_requirements(text, due, rest):
    from datetime import date

    from workflow.forms.validators import leading_day
    found, remainder = leading_day(text, today=date(2026, 11, 25))
    assert (found.isoformat() if found else None, remainder) == (due, rest)
