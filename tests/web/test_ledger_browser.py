"""In a real headless Chromium on the sandbox: an approved 登记 printed as 附表1 (Chromium's
print-to-PDF, turned into a PNG with poppler's pdftoppm) and a ledger checked on
/accounts/import, with screenshots.

Screenshots go to a temporary folder; `SCREENSHOTS=1 python -m pytest
tests/web/test_ledger_browser.py` refreshes docs/screenshots/print-register-a4.png and
accounts-import-{375,1280}.png."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from sqlalchemy import select

from models import Filing
from tests.ledger_files import ledger_bytes
from tests.web.conftest import SCREENSHOTS, sandbox_login
from tests.web.test_browser import shoot
from tests.wecom import WeComActions, say


@pytest.fixture
def pdftoppm():
    path = shutil.which("pdftoppm")
    if path is None and not os.environ.get("CI"):
        pytest.skip("pdftoppm is missing (apt install poppler-utils)")
    return path


def approve(wecom, userid, button):
    card = [m for m in wecom.inbox(userid) if m["msgtype"] == "template_card"][-1]
    key = next(b["key"] for b in card["body"]["button_list"] if b["text"] == button)
    wecom.as_user(userid).tap(card["task_id"], key)
    wecom.drain()


def test_an_approved_registration_prints_as_annex_1_on_a4(browser_page, live_server, session,
                                                          tmp_path, pdftoppm):
    folder = SCREENSHOTS if os.environ.get("SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    app = live_server.app
    emulator = app.extensions["filingbot.emulator"]
    # The sandbox's WeCom signs callbacks by the app's (test) clock, which the app checks.
    emulator.clock = lambda: app.extensions["filingbot.clock"].now().timestamp()
    wecom = WeComActions(app, emulator)
    say(wecom, "zhangsan", "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019\n"
                           "主页链接：https://mp.weixin.qq.com/wenfa\n用途：学院新闻与通知\n"
                           "开通时间：2019-09", "确认")
    approve(wecom, "liming", "确认")
    approve(wecom, "wangwu", "批准")
    filing = session.scalars(select(Filing)).one()

    page = browser_page
    sandbox_login(page, live_server, "wangwu", f"/filings/{filing.id}/print")
    assert page.locator("h1").inner_text() == "西安广播电视大学各级官方微博、微信登记表"
    assert "WX-2026-0001" in page.locator("table.fields").inner_text()
    assert page.locator("table.trail tr").count() == 3  # header, 部门确认, 党政办审核
    pdf = tmp_path / "print.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    page.emulate_media(media="print")
    assert not page.locator("nav.tools").is_visible()  # the links stay off the paper
    subprocess.run([pdftoppm, "-png", "-r", "70", "-singlefile", str(pdf),
                    str(folder / "print-register-a4")], check=True)
    text = subprocess.run([shutil.which("pdftotext") or "pdftotext", str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout
    assert "附表1" in text and "部门负责人签字" in text and "部门盖章" in text
    pages = subprocess.run([shutil.which("pdfinfo") or "pdfinfo", str(pdf)], check=True,
                           capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", pages, re.M), pages  # one sheet of paper
    assert "595.92 x 842.88 pts (A4)" in pages


def test_an_office_member_checks_a_ledger_in_the_browser(browser_page, live_server, tmp_path):
    folder = SCREENSHOTS if os.environ.get("SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    ledger = tmp_path / "部门台账.xlsx"
    ledger.write_bytes(ledger_bytes([
        ["微信公众号", "文法学院", "wenfa2019", "", "李明", "张三、李四", "学院新闻", "2019-09",
         "文法学院", "WX-2019-0001"],
        ["新浪微博", "理工学院微博", "3512771000", "", "高峰", "徐丽", "", "", "理工学院", ""],
        ["抖音", "经管学院抖音", "@jingguan", "", "韩梅", "张伟", "", "", "经济管理学院", ""],
        ["微信公众号", "开放教育学院", "kaifang01", "", "钱进", "无名氏", "", "", "开放学院", ""],
    ]))
    page = browser_page
    sandbox_login(page, live_server, "wangwu", "/accounts/import")
    page.set_input_files('input[name="file"]', str(ledger))
    page.click('form[action="/accounts/import"] button[type="submit"]')
    page.wait_for_load_state()
    notice = page.locator(".notice").inner_text()
    assert "试导入（未写入）“部门台账.xlsx”：共 4 行，新增 2，更新 0，无变化 0，错误 2" in notice
    report = page.locator("table.import-report").inner_text()
    assert "通讯录中有 2 位“张伟”" in report and "部门“开放学院”不在通讯录中" in report
    shoot(page, folder, "accounts-import")
