"""Approval through the emulator: cards, one-tap decisions, card updates, races (SPEC §5)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from bot import create_app
from models import Account, AuditLog, Decision, Filing
from tests.factories import make_account, make_filing
from tests.wecom import EVERY_ROLE, WeComActions, cards, say, sync_and_grant, tap


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    sync_and_grant(runner, EVERY_ROLE)


def last_text(wecom, userid):
    return wecom.texts(userid)[-1]


def grey(wecom, userid, card):
    return wecom.emulator.card_view(card["task_id"], userid)["replace_name"]


def refresh(session, model, ident):
    session.expire_all()
    return session.get(model, ident)


REGISTER = "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019\n用途：学院新闻"


def test_register_life_dept_then_office_then_number(wecom, session):
    say(wecom, "zhangsan", REGISTER, "确认")
    [card] = cards(wecom, "liming")
    assert card["body"]["main_title"]["title"].startswith("部门确认")
    rows = {r["keyname"]: r["value"] for r in card["body"]["horizontal_content_list"]}
    assert rows["账号名称"] == "文法学院" and rows["负责人"] == "李明"
    delivery = tap(wecom, "liming", "确认")
    assert delivery.reply["MsgType"] == "update_button"
    assert grey(wecom, "liming", card) == "已确认 · 李明"
    office_cards = [cards(wecom, u)[-1] for u in ("wangwu", "zhaoliu")]
    assert office_cards[0]["task_id"] == office_cards[1]["task_id"]  # one card, both office users
    tap(wecom, "zhaoliu", "批准")
    assert grey(wecom, "wangwu", office_cards[0]) == "已批准 · 赵六"  # updated for everyone
    [filing] = session.scalars(select(Filing)).all()
    assert filing.status == "approved"
    account = session.get(Account, filing.account_id)
    assert (account.status, account.filing_no, account.external_id) == (
        "active", "WX-2026-0001", "wenfa2019")
    assert account.details["purpose"] == "学院新闻"
    assert "WX-2026-0001" in last_text(wecom, "zhangsan")
    assert "WX-2026-0001" in last_text(wecom, "zhouba")  # publicity copy
    actions = [a.action for a in session.scalars(select(AuditLog).order_by(AuditLog.id))
               if not a.action.startswith("role:")]  # the set-up's CLI grants are audited too
    assert actions == ["submit", "dept:approve", "office:approve", "account:create"]
    history = say(wecom, "zhangsan", "查询 #%d" % filing.id)
    assert "部门确认" in history and "赵六：批准" in history


def test_a_head_is_not_asked_to_sign_off_their_own_filing(wecom, session):
    say(wecom, "liming", REGISTER, "确认")
    assert cards(wecom, "liming") == []
    assert len(cards(wecom, "wangwu")) == 1


def test_return_asks_the_decider_for_a_reason_and_forwards_it(wecom, session):
    say(wecom, "zhangsan", REGISTER, "确认")
    tap(wecom, "liming", "退回")
    assert "理由" in last_text(wecom, "liming")
    assert "账号名称请用全称" in say(wecom, "liming", "账号名称请用全称")
    assert "已发给" in say(wecom, "liming", "确认")
    assert "账号名称请用全称" in last_text(wecom, "zhangsan")
    [decision] = session.scalars(select(Decision)).all()
    assert (decision.outcome, decision.reason) == ("reject", "账号名称请用全称")
    assert session.scalars(select(Filing)).one().status == "returned"


def test_apply_life_build_task_and_account_id(wecom, session):
    say(wecom, "zhangsan",
        "申请\n平台：微信公众号\n拟用名称：文法新声\n申请理由：宣传\n内容定位：学院动态", "确认")
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "批准")
    filing = session.scalars(select(Filing)).one()
    account = session.get(Account, filing.account_id)
    assert filing.status == "awaiting_build" and account.status == "pending"
    assert account.filing_no == "WX-2026-0001"
    build = cards(wecom, "chenyi")[-1]
    assert build["body"]["main_title"]["title"].startswith("新建账号任务")
    tap(wecom, "chenyi", "已开通")
    assert "账号ID" in last_text(wecom, "chenyi")
    assert "微信号" in say(wecom, "chenyi", "1bad")
    assert "已登记" in say(wecom, "chenyi", "wenfa_xinsheng")
    account = refresh(session, Account, account.id)
    assert (account.status, account.external_id) == ("active", "wenfa_xinsheng")
    assert "wenfa_xinsheng" in last_text(wecom, "zhangsan")
    assert grey(wecom, "zhengshi", build) == "已开通 · 陈一"


def test_change_updates_the_account_and_keeps_history(wecom, session):
    account_id = make_account(wecom.app)
    say(wecom, "zhangsan", "变更\n账号：文法学院微信\n新管理员：lisi\n原因：人事调整", "确认")
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "批准")
    account = refresh(session, Account, account_id)
    assert account.admin_userids == ["lisi"]
    assert account.details["admins"][0]["name"] == "李四"
    change = session.scalar(select(AuditLog).where(AuditLog.action == "account:change"))
    assert change.after["admins"][0]["userid"] == "lisi"


def test_close_life(wecom, session):
    account_id = make_account(wecom.app)
    say(wecom, "zhangsan", "注销\n账号：1\n原因：停止运营", "确认")
    tap(wecom, "liming", "确认")
    tap(wecom, "zhaoliu", "批准")
    assert refresh(session, Account, account_id).status == "closing"  # until confirmed
    tap(wecom, "zhangsan", "已注销")  # its administrator, on the platform
    assert refresh(session, Account, account_id).status == "closed"


def annual(wecom):
    make_account(wecom.app)
    say(wecom, "zhangsan", "年检\n账号：1\n年度：2025\n发文数量：120\n粉丝数：3000\n"
        "审核制度：是\n专人管理：是\n安全事件：无", "确认")
    tap(wecom, "liming", "确认")
    return cards(wecom, "wangwu")[-1]


def test_annual_pass_records_the_review_year(wecom, session):
    card = annual(wecom)
    assert [b["text"] for b in card["body"]["button_list"]] == ["合格", "限期整改", "不合格",
                                                                "查看详情"]
    tap(wecom, "wangwu", "合格")
    assert session.scalars(select(Account)).one().last_review_year == 2025


def test_annual_fail_orders_closure_and_opens_a_case(wecom, session):
    annual(wecom)
    tap(wecom, "wangwu", "不合格")
    say(wecom, "wangwu", "多次发布未经审核的信息", "确认")
    assert session.scalars(select(Account)).one().status == "ordered_closed"
    case = session.scalar(select(Filing).where(Filing.status == "ordered"))
    assert case.kind == "close"
    assert f"#{case.id}" in " ".join(wecom.texts("liming"))
    assert "多次发布未经审核的信息" in last_text(wecom, "zhangsan")
    # the department closes the account: the ordered case is done
    say(wecom, "zhangsan", "注销\n账号：1\n原因：年检不合格", "确认")
    tap(wecom, "liming", "确认")
    tap(wecom, "zhaoliu", "批准")
    assert refresh(session, Filing, case.id).status == "ordered"  # not closed yet
    tap(wecom, "zhangsan", "已注销")
    assert refresh(session, Filing, case.id).status == "done"
    assert session.scalars(select(Account)).one().status == "closed"


def test_annual_rectify_sends_the_requirements_and_allows_resubmission(wecom, session):
    annual(wecom)
    tap(wecom, "wangwu", "限期整改")
    assert "整改期限" in last_text(wecom, "wangwu")
    say(wecom, "wangwu", "3月31日前补齐审核记录", "确认")
    assert "补齐审核记录" in last_text(wecom, "liming")
    assert "整改期限：2027-03-31" in last_text(wecom, "liming")  # the day written first
    assert "整改要求" in last_text(wecom, "zhangsan")
    reply = say(wecom, "zhangsan", "年检\n账号：1\n年度：2025\n发文数量：150\n粉丝数：3000\n"
                "审核制度：是\n专人管理：是\n安全事件：无")
    assert "请核对" in reply  # the same year may be filed again
    say(wecom, "zhangsan", "确认")
    [filing] = session.scalars(select(Filing)).all()  # the same 年检, reopened
    assert filing.status == "awaiting_dept" and filing.fields["posts"] == 150
    assert "重新提交" in say(wecom, "zhangsan", f"查询 {filing.id}")
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "合格")
    assert session.scalars(select(Account)).one().last_review_year == 2025


def test_report_goes_to_tech(wecom, session):
    say(wecom, "xuli", "举报\n平台：新浪微博\n账号名称：西安电大招生\n"
        "链接：https://weibo.com/u/1\n情况说明：冒充招生", "确认")
    card = cards(wecom, "zhengshi")[-1]
    assert "疑似冒用" in card["body"]["sub_title_text"]
    tap(wecom, "zhengshi", "已联系平台处理")
    assert session.scalars(select(Filing)).one().status == "done"
    assert "已联系平台处理" in last_text(wecom, "xuli")


def test_no_approver_tells_the_submitter_and_alerts_admins(wecom, runner, session):
    runner.invoke(args=["roles", "revoke", "wangwu", "office"])
    runner.invoke(args=["roles", "revoke", "zhaoliu", "office"])
    say(wecom, "liming", REGISTER, "确认")
    assert "没有设置审批人" in last_text(wecom, "liming")
    assert "roles grant" in last_text(wecom, "sunqi")
    runner.invoke(args=["roles", "grant", "zhaoliu", "office"])
    assert "1 件" in say(wecom, "zhaoliu", "待办")
    tap(wecom, "zhaoliu", "批准")
    assert session.scalars(select(Filing)).one().status == "approved"


def test_taps_that_must_not_decide(wecom, session, runner, clock):
    say(wecom, "zhangsan", REGISTER, "确认")
    tap(wecom, "liming", "确认")
    card = cards(wecom, "wangwu")[-1]
    key = card["body"]["button_list"][0]["key"]
    # a forged TaskId
    forged = wecom.phone.post("wangwu", tap_xml(wecom, "wangwu", "f1-office-000000", key))
    assert "失效" in last_text_after(wecom, "wangwu")
    # the submitter (crafted event: WeCom would only send it if they had the card)
    wecom.phone.post("zhangsan", tap_xml(wecom, "zhangsan", card["task_id"], key))
    wecom.drain()
    assert "本人提交" in last_text(wecom, "zhangsan")
    # an office user whose role was revoked after the card went out
    runner.invoke(args=["roles", "revoke", "zhaoliu", "office"])
    tap(wecom, "zhaoliu", "批准", card)
    assert "不是" in last_text(wecom, "zhaoliu")
    assert session.scalars(select(Filing)).one().status == "awaiting_office"
    assert forged.status == 200
    # the real decision, then WeCom retries the same callback
    delivery = tap(wecom, "wangwu", "批准", card)
    again = wecom.phone.redeliver("wangwu", delivery.query, delivery.body)
    assert again.reply == delivery.reply  # the stored answer, freshly encrypted
    assert session.scalar(select(func.count()).select_from(Decision)) == 2
    # a stale tap: a crafted event on the decided card (a second later: not a retry)
    clock.advance(seconds=1)
    wecom.phone.post("zhaoliu", tap_xml(wecom, "zhaoliu", card["task_id"], key))
    wecom.drain()
    assert "已由王五处理" in last_text(wecom, "zhaoliu")
    assert session.scalar(select(func.count()).select_from(Decision)) == 2


def last_text_after(wecom, userid):
    wecom.drain()
    return last_text(wecom, userid)


def tap_xml(wecom, userid, task_id, key):
    from bot.wecom.emulator.phone import cdata
    em = wecom.emulator
    return (f"<xml><ToUserName>{cdata(em.corp_id)}</ToUserName>"
            f"<FromUserName>{cdata(userid)}</FromUserName>"
            f"<CreateTime>{int(em.clock())}</CreateTime><MsgType>{cdata('event')}</MsgType>"
            f"<Event>{cdata('template_card_event')}</Event><EventKey>{cdata(key)}</EventKey>"
            f"<TaskId>{cdata(task_id)}</TaskId><CardType>{cdata('button_interaction')}</CardType>"
            f"<ResponseCode>{cdata('bogus')}</ResponseCode><AgentID>{em.agent_id}</AgentID></xml>")


def test_withdraw_updates_the_cards(wecom, session):
    say(wecom, "zhangsan", REGISTER, "确认")
    card = cards(wecom, "liming")[-1]
    filing = session.scalars(select(Filing)).one()
    assert "已撤回" in say(wecom, "zhangsan", f"撤回 {filing.id}")
    assert grey(wecom, "liming", card) == "已撤回"
    assert refresh(session, Filing, filing.id).status == "withdrawn"
    assert "已经撤回" in say(wecom, "zhangsan", f"撤回 {filing.id}")


def test_a_card_older_than_72_hours_still_decides_correctly(wecom, session, clock):
    say(wecom, "zhangsan", REGISTER, "确认")
    tap(wecom, "liming", "确认")
    card = cards(wecom, "wangwu")[-1]
    clock.advance(hours=73)
    tap(wecom, "wangwu", "批准", card)
    assert session.scalars(select(Filing)).one().status == "approved"
    assert "已批准" in last_text(wecom, "wangwu")
    assert grey(wecom, "wangwu", card) == "已批准 · 王五"  # the tapper's own card, passively


def test_text_decisions_and_todo(wecom, session):
    say(wecom, "zhangsan", REGISTER, "确认")
    filing = session.scalars(select(Filing)).one()
    assert "待办" in say(wecom, "liming", "同意")
    todo = say(wecom, "liming", "待办")
    assert f"#{filing.id}" in todo and "张三" in todo
    say(wecom, "liming", f"同意 {filing.id}")
    say(wecom, "wangwu", f"驳回 #{filing.id} 请补充主页链接")
    assert refresh(session, Filing, filing.id).status == "rejected"
    assert "请补充主页链接" in " ".join(wecom.texts("zhangsan"))
    assert "已由王五" in say(wecom, "zhaoliu", f"同意 {filing.id}")


def office_users(n):
    return [(f"office{i:02d}", f"审批员{i:02d}", "科员", [(2, False)]) for i in range(n)]


def test_twenty_concurrent_taps_one_decision(app, app_env, clock, emulator, runner, session):
    emulator.extra_users.extend(office_users(20))
    runner.invoke(args=["directory", "sync"])
    for userid, *_ in office_users(20):
        runner.invoke(args=["roles", "grant", userid, "office"])
    wecom = WeComActions(app, emulator)
    other = WeComActions(create_app({"ENV": app_env, "CLOCK": clock, "OUTBOX_THREAD": False}),
                         emulator)
    say(wecom, "liming", REGISTER, "确认")
    card = cards(wecom, "office00")[-1]
    key = card["body"]["button_list"][0]["key"]
    replies, barrier = {}, threading.Barrier(20)
    taps = {i: wecom.phone.prepare_tap(f"office{i:02d}", card["task_id"], key) for i in range(20)}

    def tap_now(i):
        actions = (wecom, other)[i % 2]  # two app instances, as two gunicorn workers
        barrier.wait()
        replies[i] = actions.phone.redeliver(f"office{i:02d}", *taps[i], task_id=card["task_id"])

    threads = [threading.Thread(target=tap_now, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wecom.drain()
    assert all(r.status == 200 for r in replies.values())
    assert session.scalar(select(func.count()).select_from(Decision)) == 1
    filing = session.scalars(select(Filing)).one()
    winner = session.scalars(select(Decision)).one().decider
    assert filing.status == "approved"
    assert session.scalar(select(func.count()).select_from(Account)) == 1
    assert emulator.call_count("message/update_template_card") == 1  # every card updated once
    for i in range(20):
        userid = f"office{i:02d}"
        if userid != winner:
            assert "处理" in last_text(wecom, userid) and "无需重复" in last_text(wecom, userid)
    assert grey(wecom, "wangwu", card).startswith("已批准 · 审批员")
    other.app.extensions["filingbot.engine"].dispose()


def test_100_concurrent_approvals_get_100_sequential_numbers(app, app_env, clock, emulator,
                                                             session):
    ids = [make_filing(app, kind="register", status="awaiting_office", submitter="zhangsan",
                       fields={"platform": "DY", "name": f"号{i}", "external_id": f"dy{i}"})
           for i in range(100)]
    other = create_app({"ENV": app_env, "CLOCK": clock, "OUTBOX_THREAD": False})
    actions = [WeComActions(app, emulator), WeComActions(other, emulator)]
    say(actions[0], "wangwu", "帮助")  # known users first
    say(actions[0], "zhaoliu", "帮助")

    def approve(chunk, index):
        for filing_id in chunk:
            actions[index % 2].as_user(("wangwu", "zhaoliu")[index % 2]).say(f"同意 {filing_id}")

    threads = [threading.Thread(target=approve, args=(ids[i::8], i)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = sorted(session.scalars(select(Account.filing_no)).all())
    assert numbers == [f"DY-2026-{n:04d}" for n in range(1, 101)]
    other.extensions["filingbot.engine"].dispose()


def test_query_by_filing_number_shows_the_account_history(wecom, session):
    say(wecom, "liming", REGISTER, "确认")
    tap(wecom, "wangwu", "批准")
    reply = say(wecom, "zhangsan", "查询 WX-2026-0001")
    assert "文法学院｜微信公众号｜WX-2026-0001｜正常" in reply and "王五" in reply
    assert "没有找到" in say(wecom, "xuli", "查询 WX-2026-0001")  # another department
