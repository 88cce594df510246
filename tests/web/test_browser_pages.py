"""A real headless Chromium on the sandbox: open an approval card's link, sign in, decide on the
page, and see the card greyed out in the emulator; screenshots of /filings/<id>, /accounts and
/review/<year> at 375 px and 1280 px (`SCREENSHOTS=1` refreshes docs/screenshots/)."""

from __future__ import annotations

import os
from datetime import datetime

from sqlmodel import Session

from bot.clock import SHANGHAI
from bot.links import SANDBOX_URL
from models import Filing, ZeroReport
from tests.factories import make_account, make_filing
from tests.web.conftest import SCREENSHOTS, sandbox_login
from tests.web.test_browser import shoot
from tests.wecom import WeComActions, cards, say

REGISTER = ("登记\n平台：微信公众号\n账号名称：西安广播电视大学文法学院\n账号ID：wenfa2019\n"
            "用途：发布学院新闻、招生和教学通知\n开通时间：2019-09-01")


def some_registry(app) -> None:
    """Accounts in several departments, one reviewed for 2025, one department's 零报告."""
    reviewed = make_account(app, name="文法学院官方微博", platform="WB", external_id="wenfa_wb",
                            filing_no="WB-2024-0003", leader=("liming", "李明"))
    make_filing(app, kind="annual", account_id=reviewed, status="approved",
                fields={"account": {"id": reviewed, "name": "文法学院官方微博"}, "year": 2025})
    for i, (name, platform, dept) in enumerate([
            ("经济管理学院", "WX", 6), ("经管学院抖音号", "DY", 6), ("理工学院视频号", "SPH", 7),
            ("理工学院B站", "BL", 7), ("开放教育学院", "WX", 8)]):
        make_account(app, name=name, platform=platform, external_id=f"acct{i}",
                     department_id=dept, filing_no=f"{platform}-2025-{i + 10:04d}",
                     admins=("liulei",) if dept == 6 else ("xuli",))
    with Session(app.extensions["filingbot.engine"]) as session:
        session.add(ZeroReport(department_id=3, year=2025, userid="zhouba",
                               created_at=datetime(2026, 2, 1, tzinfo=SHANGHAI)))
        session.commit()


def test_a_card_link_opens_the_page_and_a_decision_there_greys_the_card(
        browser_page, live_server, clock, tmp_path):
    page, app = browser_page, live_server.app
    folder = SCREENSHOTS if os.environ.get("SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    emulator = app.extensions["filingbot.emulator"]
    emulator.clock = lambda: clock.now().timestamp()  # WeCom signs with the app's (test) time
    wecom = WeComActions(app, emulator)
    say(wecom, "zhangsan", REGISTER, "确认")
    card = cards(wecom, "liming")[-1]
    link = card["body"]["card_action"]["url"]
    assert link == f"{SANDBOX_URL}/filings/1"

    page.goto(live_server.url + link.removeprefix(SANDBOX_URL))  # the card, tapped
    assert "/login?next=/filings/1" in page.url
    page.click('button[data-login="liming"]')
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/filings/1"
    assert "等待：部门确认" in page.locator("#decide h2").inner_text()
    page.click('button[data-choice="approve"]')
    page.wait_for_load_state()
    assert "已确认。审批卡片已同步更新。" in page.locator(".notice").inner_text()
    wecom.drain()
    assert emulator.card_view(card["task_id"], "liming")["replace_name"] == "已确认 · 李明"
    with Session(app.extensions["filingbot.engine"]) as session:
        assert session.get(Filing, 1).status == "awaiting_office"

    some_registry(app)
    page.click("button.nav__logout")
    page.wait_for_load_state()
    sandbox_login(page, live_server, "wangwu", "/filings/1")  # the office's turn
    assert [b.inner_text() for b in page.locator("#decide button").all()] == ["批准", "驳回"]
    shoot(page, folder, "filing")
    page.goto(f"{live_server.url}/accounts")
    assert "文法学院官方微博" in page.content() and "经管学院抖音号" in page.content()
    shoot(page, folder, "accounts")
    page.goto(f"{live_server.url}/review/2025")
    assert page.locator("svg.bar-chart").is_visible()
    shoot(page, folder, "review")
