"""/filings/<id>: the filing as its form defines it, and deciding from the page through
workflow.decide — one winner against card taps, every card greyed, CSRF checked."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from bot import create_app
from models import Account, Decision, Filing, User
from tests.factories import make_account
from tests.web.actions import WebActions
from tests.wecom import EVERY_ROLE, WeComActions, cards, say, sync_and_grant

REGISTER = "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019\n用途：学院新闻"


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    sync_and_grant(runner, EVERY_ROLE)


@pytest.fixture
def wecom(app, emulator):
    return WeComActions(app, emulator)


def submitted(wecom) -> int:
    """zhangsan (文法学院) files a 登记; it waits for 李明, the department's head."""
    say(wecom, "zhangsan", REGISTER, "确认")
    assert cards(wecom, "liming")
    return 1


def choices(html: str) -> list[str]:
    """The labels of the decision buttons on a page."""
    return [text for _, text in re.findall(r'data-choice="([^"]+)">([^<]+)<', html)]


def status_of(session, filing_id):
    session.expire_all()
    return session.get(Filing, filing_id).status


def test_the_page_shows_every_field_the_people_and_the_stage(wecom, web, session):
    filing_id = submitted(wecom)
    web.login_as("liming")
    page = web.get(f"/filings/{filing_id}").get_data(as_text=True)
    for text in ("登记", "文法学院", "wenfa2019", "学院新闻", "张三", "等待：部门确认"):
        assert text in page
    assert choices(page) == ["确认", "退回"]  # the card's labels
    web.login_as("zhangsan")  # the submitter sees it, and has nothing to decide
    page = web.get(f"/filings/{filing_id}").get_data(as_text=True)
    assert "wenfa2019" in page and choices(page) == [] and "你无需操作" in page
    web.login_as("wangwu")  # office: sees everything, decides at its own stage only
    assert choices(web.get(f"/filings/{filing_id}").get_data(as_text=True)) == []


def test_a_decision_on_the_page_moves_the_filing_and_greys_the_cards(wecom, web, session,
                                                                    emulator):
    filing_id = submitted(wecom)
    head_card = cards(wecom, "liming")[-1]
    web.login_as("liming")
    answer = web.post(f"/filings/{filing_id}/decide", {"stage": "dept", "choice": "approve"},
                      token_from=f"/filings/{filing_id}")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/filings/{filing_id}")
    wecom.drain()
    assert status_of(session, filing_id) == "awaiting_office"
    assert emulator.card_view(head_card["task_id"], "liming")["replace_name"] \
        == "已确认 · 李明"
    page = web.get(f"/filings/{filing_id}").get_data(as_text=True)
    assert "已确认。审批卡片已同步更新。" in page and "部门确认：已确认" in page
    office_card = cards(wecom, "wangwu")[-1]

    web.login_as("wangwu")
    page = web.get(f"/filings/{filing_id}").get_data(as_text=True)
    assert choices(page) == ["批准", "驳回"]
    reason = "名称不规范，请加“西安广播电视大学”前缀"
    web.post(f"/filings/{filing_id}/decide",
             {"stage": "office", "choice": "reject", "reason": reason},
             token_from=f"/filings/{filing_id}")
    wecom.drain()
    assert status_of(session, filing_id) == "rejected"
    decision = session.scalars(select(Decision).where(Decision.stage == "office")).one()
    assert (decision.decider, decision.reason) == ("wangwu", reason)
    for userid in ("wangwu", "zhaoliu"):
        assert emulator.card_view(office_card["task_id"], userid)["replace_name"] == "已驳回 · 王五"
    assert any("名称不规范" in t for t in wecom.texts("zhangsan"))  # the submitter hears why
    page = web.get(f"/filings/{filing_id}").get_data(as_text=True)
    assert "理由：名称不规范" in page and "data-choice" not in page

    # Deciding again (a stale page) changes nothing and says who decided.
    web.post(f"/filings/{filing_id}/decide", {"stage": "office", "choice": "approve"},
             token_from="/")
    assert status_of(session, filing_id) == "rejected"
    page = web.get(f"/filings/{filing_id}").get_data(as_text=True)
    assert "该事项已由王五处理（已驳回），无需重复操作" in page


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_decision_without_the_csrf_token_is_refused(wecom, web, session, token):
    filing_id = submitted(wecom)
    web.login_as("liming")
    form = {"stage": "dept", "choice": "approve"} | ({"csrf_token": token} if token else {})
    answer = web.post(f"/filings/{filing_id}/decide", form, token_from=None)
    assert answer.status_code == 400
    assert "页面已过期" in answer.get_data(as_text=True)
    assert status_of(session, filing_id) == "awaiting_dept"
    assert session.scalar(select(func.count()).select_from(Decision)) == 0


@pytest.mark.parametrize("userid,code", [("liulei", 404), ("hanmei", 404), ("zhangsan", 200)])
def test_who_may_decide_on_the_page(wecom, web, session, userid, code):
    filing_id = submitted(wecom)
    web.login_as(userid)
    answer = web.post(f"/filings/{filing_id}/decide", {"stage": "dept", "choice": "approve"},
                      token_from="/")
    assert answer.status_code == (303 if code == 200 else 404)
    assert status_of(session, filing_id) == "awaiting_dept"  # the submitter may not decide
    if code == 200:
        assert "不能审批自己提交的申请" in web.get(f"/filings/{filing_id}").get_data(as_text=True)


def test_unknown_or_foreign_filings_are_404(wecom, web):
    filing_id = submitted(wecom)
    web.login_as("liulei")  # 经济管理学院: not theirs
    assert web.get(f"/filings/{filing_id}").status_code == 404
    assert web.get("/filings/999").status_code == 404
    assert web.get("/filings/99999999999").status_code == 404


def office_users(n):
    return [(f"office{i:02d}", f"审批员{i:02d}", "科员", [(2, False)]) for i in range(n)]


def test_the_page_races_card_taps_and_exactly_one_wins(app, app_env, clock, emulator, runner,
                                                       session):
    emulator.extra_users.extend(office_users(8))
    runner.invoke(args=["directory", "sync"])
    for userid, *_ in office_users(8):
        runner.invoke(args=["roles", "grant", userid, "office"])
    wecom = WeComActions(app, emulator)
    other = create_app({"ENV": app_env, "CLOCK": clock, "OUTBOX_THREAD": False})
    say(wecom, "zhangsan", REGISTER, "确认")
    wecom.as_user("liming").tap(cards(wecom, "liming")[-1]["task_id"],
                                cards(wecom, "liming")[-1]["body"]["button_list"][0]["key"])
    wecom.drain()
    card = cards(wecom, "office00")[-1]
    key = card["body"]["button_list"][0]["key"]
    tappers = [f"office{i:02d}" for i in range(4)]
    deciders = [f"office{i:02d}" for i in range(4, 8)]
    taps = {u: wecom.phone.prepare_tap(u, card["task_id"], key) for u in tappers}
    browsers = {}
    for i, userid in enumerate(deciders):
        browsers[userid] = WebActions((app, other)[i % 2], emulator)  # two workers
        browsers[userid].login_as(userid)
    tokens = {u: b.csrf_token("/filings/1") for u, b in browsers.items()}
    barrier, answers = threading.Barrier(8), {}

    def tap_now(userid):
        barrier.wait()
        answers[userid] = wecom.phone.redeliver(userid, *taps[userid], task_id=card["task_id"])

    def post_now(userid):
        barrier.wait()
        answers[userid] = browsers[userid].client.post(
            "/filings/1/decide", data={"stage": "office", "choice": "approve",
                                       "csrf_token": tokens[userid]})

    threads = [threading.Thread(target=tap_now, args=(u,)) for u in tappers] + \
        [threading.Thread(target=post_now, args=(u,)) for u in deciders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wecom.drain()
    assert all(answers[u].status == 200 for u in tappers)
    assert all(answers[u].status_code == 303 for u in deciders)
    decisions = session.scalars(select(Decision).where(Decision.stage == "office")).all()
    assert len(decisions) == 1
    assert status_of(session, 1) == "approved"
    winner = session.get(User, decisions[0].decider).name
    for userid, *_ in office_users(8):
        assert emulator.card_view(card["task_id"], userid)["replace_name"] == f"已批准 · {winner}"
    other.extensions["filingbot.engine"].dispose()


def decide_on_page(wecom, web, userid, filing_id, form):
    """`userid` decides on the filing's page; the outbox is delivered; the page after it."""
    web.login_as(userid)
    web.post(f"/filings/{filing_id}/decide", form, token_from=f"/filings/{filing_id}")
    wecom.drain()
    return web.get(f"/filings/{filing_id}").get_data(as_text=True)


def test_built_on_the_page_needs_the_new_accounts_id(wecom, web, session, emulator):
    say(wecom, "zhangsan",
        "申请\n平台：微信公众号\n拟用名称：文法新声\n申请理由：宣传\n内容定位：学院动态", "确认")
    decide_on_page(wecom, web, "liming", 1, {"stage": "dept", "choice": "approve"})
    decide_on_page(wecom, web, "wangwu", 1, {"stage": "office", "choice": "approve"})
    build = cards(wecom, "chenyi")[-1]
    page = decide_on_page(wecom, web, "chenyi", 1, {"stage": "build", "choice": "built"})
    assert "未执行：" in page and 'name="build_id"' in page  # no ID given: nothing decided
    assert status_of(session, 1) == "awaiting_build"
    page = decide_on_page(wecom, web, "chenyi", 1,
                          {"stage": "build", "choice": "built", "build_id": "1bad"})
    assert "微信号" in page and status_of(session, 1) == "awaiting_build"
    decide_on_page(wecom, web, "chenyi", 1,
                   {"stage": "build", "choice": "built", "build_id": "wenfa_xinsheng"})
    assert status_of(session, 1) == "approved"
    account = session.scalars(select(Account)).one()
    assert (account.status, account.external_id) == ("active", "wenfa_xinsheng")
    assert emulator.card_view(build["task_id"], "zhengshi")["replace_name"] == "已开通 · 陈一"
    assert any("wenfa_xinsheng" in t for t in wecom.texts("zhangsan"))


def test_closed_on_the_page_records_the_day(wecom, web, app, session):
    make_account(app)
    say(wecom, "zhangsan", "注销\n账号：1\n原因：停止运营", "确认")
    decide_on_page(wecom, web, "liming", 1, {"stage": "dept", "choice": "approve"})
    decide_on_page(wecom, web, "wangwu", 1, {"stage": "office", "choice": "approve"})
    page = decide_on_page(wecom, web, "zhangsan", 1,
                          {"stage": "closure", "choice": "closed", "closed_on": "2026-11-20"})
    assert "已注销。审批卡片已同步更新。" in page
    account = session.get(Account, 1)
    assert (account.status, account.details["closed_on"]) == ("closed", "2026-11-20")


def test_item12_the_page_warns_the_deciders_of_a_namesake(wecom, web):
    make_account(wecom.app, name="西安电大文法学院", platform="WX", external_id="xadd-wf",
                 filing_no="WX-2025-0007")
    say(wecom, "zhangsan", "申请\n平台：微信公众号\n拟用名称：西安电大文法学院\n申请理由：宣传\n"
        "内容定位：学院动态", "确认")
    web.login_as("liming")
    page = web.get("/filings/1").get_data(as_text=True)
    warning = "⚠ 同平台已有同名账号：西安电大文法学院（WX-2025-0007，文法学院）"
    assert f'<p class="warning" role="note">{warning}</p>' in page


ANNUAL = ("年检\n账号：WX-2025-0001\n年度：2025\n发文数量：120\n粉丝数：3000\n审核制度：是\n"
          "专人管理：是\n安全事件：无")


def test_a_rectification_ordered_on_the_page_takes_the_deadline_given_there(wecom, web,
                                                                           session):
    from datetime import date
    make_account(wecom.app)  # 管理员 张三
    say(wecom, "zhangsan", ANNUAL, "确认")
    say(wecom, "liming", "同意 1")
    web.login_as("wangwu")
    page = web.get("/filings/1").get_data(as_text=True)
    assert '<input name="due_on" type="date">' in page and "不填为 30 天后" in page
    for bad, told in (("2026-11-20", "期限 2026-11-20 不在今天之后"),
                      ("2028-01-01", "期限 2028-01-01 超过一年"),
                      ("明天", "“明天”不是有效的日期")):
        web.post("/filings/1/decide", {"stage": "office", "choice": "fix", "due_on": bad,
                                       "reason": "补齐审核记录"}, token_from="/filings/1")
        assert status_of(session, 1) == "awaiting_office"  # nothing decided
        assert told in web.get("/filings/1").get_data(as_text=True)
    web.post("/filings/1/decide", {"stage": "office", "choice": "fix", "due_on": "2026-12-10",
                                   "reason": "补齐审核记录"}, token_from="/filings/1")
    wecom.drain()
    session.expire_all()
    filing = session.get(Filing, 1)
    assert (filing.status, filing.due_on) == ("returned", date(2026, 12, 10))
    told = wecom.texts("zhangsan")[-1]
    assert "补齐审核记录" in told and "整改期限：2026-12-10" in told
