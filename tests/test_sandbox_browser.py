"""/sandbox in a real browser (Debian chromium, driven by Python playwright) against gunicorn:
a whole approval played on three phones side by side, with screenshots.

Screenshots go to $SANDBOX_SCREENSHOTS when set (docs/screenshots/ is made this way), else to
the test's tmp folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ONE_SHOT = """登记
平台：微信公众号
账号名称：西安电大文法学院
账号ID：wfxy2016
主页链接：https://mp.weixin.qq.com/wfxy
负责人：李明
管理员：张三
用途：发布学院新闻、通知公告
开通时间：2019年9月"""
TIMEOUT = 15_000  # ms; a reply normally shows within a second


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
        pytest.skip(f"{CHROMIUM} is missing (apt install chromium fonts-wqy-microhei); "
                    "under CI=true this test runs")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SANDBOX_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_whole_approval_on_three_phones(sandbox_server, browser, shots, session):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1180, "height": 900}, locale="zh-CN")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(sandbox_server.url + "/sandbox?as=zhangsan,liming,wangwu")
    zhangsan, liming, wangwu = (page.locator(f'.phone[data-user="{u}"]')
                                for u in ("zhangsan", "liming", "wangwu"))

    # zhangsan pastes a one-shot 登记 and confirms it.
    zhangsan.locator("textarea").fill(ONE_SHOT)
    zhangsan.get_by_role("button", name="发送").click()
    expect(zhangsan.locator(".row:not(.mine) .bubble").last).to_contain_text(
        "请核对【官方账号登记（附表1）】", timeout=TIMEOUT)
    expect(zhangsan.locator(".row.mine .bubble").first).to_have_text(ONE_SHOT)
    zhangsan.locator("textarea").fill("确认")
    zhangsan.locator("textarea").press("Control+Enter")
    expect(zhangsan.locator(".row:not(.mine) .bubble").last).to_contain_text(
        "已提交【官方账号登记（附表1）】", timeout=TIMEOUT)

    # zhangsan's head confirms on the card that reached his phone.
    card = liming.locator(".card", has_text="部门确认：官方账号登记（附表1）")
    expect(card).to_contain_text("西安电大文法学院", timeout=TIMEOUT)
    card.get_by_role("button", name="确认").click()
    expect(card.locator(".buttons")).to_have_text("已确认 · 李明", timeout=TIMEOUT)

    # Mid-approval: the office's card is waiting.
    office_card = wangwu.locator(".card", has_text="党政办审核：官方账号登记（附表1）")
    expect(office_card.get_by_role("button", name="批准")).to_be_enabled(timeout=TIMEOUT)
    expect(zhangsan.locator(".messages")).to_contain_text("已由部门负责人李明确认",
                                                          timeout=TIMEOUT)
    page.screenshot(path=shots / "sandbox-mid-approval.png")

    # A card's 查看详情 opens the filing's page signed in as the phone's member, as WeCom's
    # in-app browser does: 王五 may decide there, 李明 (already decided) may not.
    for phone, name, may_decide in ((wangwu, "王五", True), (liming, "李明", False)):
        with page.context.expect_page() as opened:
            phone.locator(".card .link", has_text="查看详情").last.click()
        detail = opened.value
        detail.wait_for_url(sandbox_server.url + "/filings/1", timeout=TIMEOUT)
        expect(detail.locator("body")).to_contain_text(name, timeout=TIMEOUT)
        expect(detail.locator("h1")).to_contain_text("官方账号登记")
        expect(detail.locator("[data-choice]")).to_have_count(2 if may_decide else 0)
        if may_decide:
            detail.set_viewport_size({"width": 390, "height": 800})
            detail.screenshot(path=shots / "sandbox-card-link.png", full_page=True)
        detail.close()

    # The office approves; zhangsan sees the filing number.
    office_card.get_by_role("button", name="批准").click()
    expect(office_card.locator(".buttons")).to_have_text("已批准 · 王五", timeout=TIMEOUT)
    expect(zhangsan.locator(".messages")).to_contain_text("备案编号：WX-", timeout=TIMEOUT)

    # Every card is greyed out on every phone, buttons gone.
    assert page.locator(".card").count() == 2
    expect(page.locator(".card:not(.done)")).to_have_count(0)
    expect(page.locator(".card .buttons button:not([disabled])")).to_have_count(0)
    emulator = sandbox_server.emulator
    for userid in ("liming", "wangwu"):
        cards = [m for m in emulator.inbox(userid) if m["msgtype"] == "template_card"]
        assert all(emulator.card_view(c["task_id"], userid)["replace_name"] for c in cards)
    page.screenshot(path=shots / "sandbox-approved.png")

    # Each message shown once: what the page drew is what the phone received, in order.
    for userid, phone in (("zhangsan", zhangsan), ("liming", liming), ("wangwu", wangwu)):
        drawn = [int(i) for i in phone.locator(".row").evaluate_all(
            "rows => rows.map(r => r.dataset.id)")]
        assert drawn == [m["id"] for m in emulator.inbox(userid, own=True)]

    # The sandbox clock, from the page: every phone shows the new day.
    page.locator("#clock input[name=date]").fill("2027-01-05")
    page.locator("#clock button[type=submit]").click()
    expect(page.locator("#today-label")).to_contain_text("2027年1月5日 周二 09:00", timeout=TIMEOUT)
    expect(page.locator(".phone [data-date]")).to_have_text(["1月5日 周二"] * 3, timeout=TIMEOUT)
    page.get_by_role("button", name="运行当天提醒").click()
    expect(page.locator("#notice")).to_contain_text("年检提醒 1 项", timeout=TIMEOUT)
    reminder = zhangsan.locator(".card", has_text="年检提醒：2026 年度")
    expect(reminder).to_contain_text("西安电大文法学院", timeout=TIMEOUT)
    page.screenshot(path=shots / "sandbox-time-travel.png")
    assert errors == []
    page.close()
