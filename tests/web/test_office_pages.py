"""/accounts, /accounts/<id>, /queue, /review/<year>, /assessment/<year>: their content, and
who may open what (role × page × own/other department: allowed / 403 / 404)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from bot.clock import SHANGHAI
from models import Decision, Filing, ZeroReport
from tests.factories import make_account, make_filing
from tests.wecom import sync_and_grant

GRANTS = [("wangwu", "office"), ("zhouba", "publicity"), ("zhengshi", "tech"), ("sunqi", "admin")]


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    sync_and_grant(runner, GRANTS)


@pytest.fixture
def registry(app):
    """文法学院 (5) holds an account with a filing waiting for its head; 经济管理学院 (6) one."""
    wenfa = make_account(app, leader=("zhangsan", "张三"))
    jingguan = make_account(app, name="经管学院抖音", platform="DY", external_id="jg2020",
                            department_id=6, filing_no="DY-2025-0002", admins=("liulei",))
    filing = make_filing(app, kind="annual", account_id=wenfa,
                         fields={"account": ref(wenfa, "文法学院微信"), "year": 2026})
    return {"own_account": wenfa, "other_account": jingguan, "filing": filing}


def ref(account_id: int, name: str) -> dict:
    """An account as a form's answer holds it."""
    return {"id": account_id, "name": name, "filing_no": None}


PAGES = ["filing", "account", "/accounts", "/queue", "/review/2025", "/assessment/2025"]
MATRIX = {  # userid: expected status per page (own department = 文法学院)
    "zhangsan": (200, 200, 200, 200, 403, 403),   # staff, own department
    "liulei": (404, 404, 200, 200, 403, 403),     # staff, other department
    "liming": (200, 200, 200, 200, 403, 403),     # dept_head, own department
    "hanmei": (404, 404, 200, 200, 403, 403),     # dept_head, other department
    "zhengshi": (404, 200, 200, 200, 403, 403),   # tech: every account, its own kinds of filing
    "wangwu": (200, 200, 200, 200, 200, 200),     # office
    "zhouba": (200, 200, 200, 200, 200, 200),     # publicity
    "sunqi": (200, 200, 200, 200, 200, 200),      # admin
}


@pytest.mark.parametrize("userid", sorted(MATRIX))
def test_permission_matrix(web, registry, userid):
    web.login_as(userid)
    for page, expected in zip(PAGES, MATRIX[userid], strict=True):
        path = {"filing": f"/filings/{registry['filing']}",
                "account": f"/accounts/{registry['own_account']}"}.get(page, page)
        answer = web.get(path)
        assert answer.status_code == expected, (userid, path, answer.status_code)
        if expected == 403:
            assert "没有权限" in answer.get_data(as_text=True)


def test_a_page_without_a_session_goes_to_the_login(web, registry):
    for path in ("/accounts", "/queue", f"/filings/{registry['filing']}", "/review/2025"):
        answer = web.get(path)
        assert answer.status_code == 302 and "/login?next=" in answer.headers["Location"]


def test_the_registry_lists_filters_searches_and_pages(web, app, registry):
    for i in range(25):
        make_account(app, name=f"文法学院号{i:02d}", platform="WB", external_id=f"wf{i:02d}",
                     filing_no=f"WB-2025-{i + 10:04d}", status="closed" if i == 0 else "active")
    web.login_as("wangwu")
    page = web.get("/accounts").get_data(as_text=True)
    assert "共 27 个账号" in page and "第 1 / 2 页" in page  # by department, then id
    page = web.get("/accounts?department=6").get_data(as_text=True)
    assert "共 1 个账号" in page and "经管学院抖音" in page and "文法学院微信" not in page
    assert "共 25 个账号" in web.get("/accounts?platform=WB").get_data(as_text=True)
    page = web.get("/accounts?status=closed").get_data(as_text=True)
    assert "共 1 个账号" in page and "文法学院号00" in page
    assert "共 1 个账号" in web.get("/accounts?q=wb-2025-0015").get_data(as_text=True)
    page = web.get("/accounts?q=刘雷").get_data(as_text=True)  # a person: an administrator
    assert "共 1 个账号" in page and "经管学院抖音" in page
    page = web.get("/accounts?platform=WB&page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in page and "文法学院号24" in page
    back = re.search(r'<a href="([^"]+)">‹ 上一页</a>', page).group(1)  # keeps the filter
    assert "platform=WB" in back and "page=1" in back and "下一页" not in page
    assert web.get("/accounts?department=x&status=nope&page=-1").status_code == 200
    web.login_as("zhangsan")  # staff: their department only
    page = web.get("/accounts").get_data(as_text=True)
    assert "经管学院抖音" not in page and "文法学院微信" in page


def test_the_department_filter_offers_the_departments_the_member_sees(web, registry):
    """Who sees every account picks among every department; a head or staff member among
    their own (a province has thousands of departments, and they see only theirs)."""
    web.login_as("wangwu")
    page = web.get("/accounts").get_data(as_text=True)
    assert '<option value="5"' in page and '<option value="6"' in page
    web.login_as("liming")  # head of 文法学院 (5)
    page = web.get("/accounts").get_data(as_text=True)
    assert '<option value="5"' in page and '<option value="6"' not in page
    assert "文法学院微信" in page and "文法学院</td>" in page  # the department column's name


def test_an_account_page_shows_its_filings_and_people_over_time(web, app, registry):
    web.login_as("liming")
    page = web.get(f"/accounts/{registry['own_account']}").get_data(as_text=True)
    assert "文法学院微信" in page and "WX-2025-0001" in page and "wenfa2019" in page
    assert f"/filings/{registry['filing']}" in page and "待部门确认" in page
    assert "张三" in page and "现任" in page  # the 负责人
    assert web.get(f"/accounts/{registry['other_account']}").status_code == 404
    assert web.get("/accounts/0").status_code == 404


def test_the_queue_shows_age_per_stage_and_the_approvers_own_first(web, app, clock, registry):
    other = make_filing(app, kind="register", submitter="liulei", department_id=6,
                        status="awaiting_office", fields={"name": "经管新号"})
    with Session(app.extensions["filingbot.engine"]) as s:  # both arrived 3 days ago
        for filing_id in (registry["filing"], other):
            s.get(Filing, filing_id).updated_at = clock.now() - timedelta(days=3, hours=2)
        s.commit()
    web.login_as("liming")
    page = web.get("/queue").get_data(as_text=True)
    assert "部门确认（1）" in page and "待你处理" in page and "3 天" in page
    assert f"/filings/{other}" not in page  # another department's filing
    web.login_as("wangwu")
    page = web.get("/queue").get_data(as_text=True)
    assert page.index("党政办") < page.index("部门确认")  # the office's own stage first
    assert page.count("tag_mine") == 1 and f"/filings/{other}" in page


def test_review_progress_per_department_with_chart_and_drill_down(web, app, registry):
    make_filing(app, kind="annual", account_id=registry["own_account"], status="approved",
                fields={"account": ref(registry["own_account"], "文法学院微信"),
                                 "year": 2025})
    with Session(app.extensions["filingbot.engine"]) as s:
        s.add(ZeroReport(department_id=7, year=2025, userid="gaofeng"))
        s.commit()
    web.login_as("wangwu")
    page = web.get("/review/2025").get_data(as_text=True)
    assert "<svg" in page and "各部门完成情况" in page
    assert "全校正常状态账号 2 个：已通过 1，审核中 0，未提交 1" in page
    row = page.split('data-department="7"')[1].split("</tr>")[0]
    assert "零报告" in row
    row = page.split('data-department="8"')[1].split("</tr>")[0]
    assert "未回复" in row  # 开放教育学院: no account, no 零报告
    row = page.split('data-department="6"')[1].split("</tr>")[0]
    assert "/accounts?department=6&amp;status=active" in row and "未回复" in row
    assert web.get("/review/1800").status_code == 404


def test_assessment_figures_per_department(web, app, clock, registry):

    annual = make_filing(app, kind="annual", account_id=registry["own_account"],
                         status="returned",
                         fields={"account": ref(registry["own_account"], "文法学院微信"),
                                 "year": 2025})
    with Session(app.extensions["filingbot.engine"]) as s:
        f = s.get(Filing, annual)
        f.created_at = datetime(2026, 3, 1, 9, tzinfo=SHANGHAI)  # within the window: on time
        s.add(Decision(filing_id=annual, stage="office", outcome="fix", decider="wangwu",
                       decided_at=datetime(2025, 12, 30, 9, tzinfo=SHANGHAI)))
        s.add(Filing(kind="report", department_id=5, submitter="zhangsan", status="done",
                     fields={}, created_at=datetime(2025, 6, 1, tzinfo=SHANGHAI)))
        s.commit()
    web.login_as("sunqi")
    page = web.get("/assessment/2025").get_data(as_text=True)
    row = page.split('data-department="5"')[1].split("</tr>")[0]
    cells = [c.split(">", 1)[1] for c in row.split("<td")[1:]]
    values = [c.split("<")[0] if not c.startswith("<a") else c for c in cells]
    assert values[1:10] == ["1", "1", "1", "0", "0", "1", "0", "0", "1"]
    row6 = page.split('data-department="6"')[1].split("</tr>")[0]
    assert row6.split("</td>")[5].endswith(">1")  # 经济管理学院: its review is missing
