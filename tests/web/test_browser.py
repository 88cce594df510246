"""A real headless Chromium on the sandbox served over HTTP: sign in by picking a demo user,
open /admin/roles and /audit, grant a role through the form, and take screenshots at 375 px
(WeCom's in-app browser on a phone) and 1280 px (the office's desktop).

Screenshots go to a temporary folder; `SCREENSHOTS=1 python -m pytest tests/web/test_browser.py`
refreshes the ones committed under docs/screenshots/."""

from __future__ import annotations

import os

from sqlalchemy import select

from models import AuditLog, RoleGrant
from tests.web.conftest import SCREENSHOTS, sandbox_login

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def shoot(page, folder, name: str) -> None:
    """A full-page screenshot at the phone and the desktop width; the page must not scroll
    sideways on the phone."""
    for label, size in (("375", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(size)
        if label == "375":
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} scrolls sideways at 375 px by {overflow} px"
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)


def test_an_admin_grants_a_role_and_reads_the_audit_log(browser_page, live_server, session,
                                                        tmp_path):
    page = browser_page
    folder = SCREENSHOTS if os.environ.get("SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/admin/roles")  # no session: the login picker, next kept
    assert "/login?next=/admin/roles" in page.url
    assert page.locator('button[data-login="sunqi"]').is_visible()
    shoot(page, folder, "login-sandbox")
    sandbox_login(page, live_server, "sunqi", "/admin/roles")
    assert page.url == f"{live_server.url}/admin/roles"
    assert page.locator("h1").inner_text() == "角色管理"
    assert page.locator(".nav__name").inner_text() == "孙七"

    page.fill('input[name="userid"]', "zhangsan")
    page.select_option('select[name="role"]', "publicity")
    page.click('form[action="/admin/roles/grant"] button[type="submit"]')
    page.wait_for_load_state()
    assert "已授予 zhangsan 角色「宣传部」" in page.locator(".notice").inner_text()
    assert session.scalar(select(RoleGrant.id).where(RoleGrant.userid == "zhangsan",
                                                     RoleGrant.role == "publicity"))
    shoot(page, folder, "admin-roles")

    page.click('.nav__links a:has-text("审计日志")')
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "审计日志"
    first_row = page.locator("table.data tbody tr").first.inner_text()
    assert "授予角色" in first_row and "孙七" in first_row and "zhangsan" in first_row
    entry = session.scalars(select(AuditLog).where(AuditLog.actor == "sunqi")).one()
    assert entry.action == "role:grant"
    page.fill('input[name="person"]', "孙七")
    page.click('form[action="/audit"] button[type="submit"]')
    page.wait_for_load_state()
    assert "共 1 条" in page.content()
    shoot(page, folder, "audit")

    page.click("button.nav__logout")
    page.wait_for_load_state()
    assert "你已退出登录" in page.content()
    page.goto(f"{live_server.url}/audit")
    assert "/login" in page.url
