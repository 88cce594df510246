"""Excel and paper on the web (issue #12): the .xlsx downloads behind each page's permissions,
/accounts/import (office and admin, CSRF, dry run then apply), the print page and the .docx."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from models import Account, AuditLog, Filing
from tests.factories import make_account
from tests.ledger_files import HEADERS, ledger_bytes
from tests.wecom import say, sync_and_grant

ROWS = [["微信公众号", "理工学院", "ligong2020", "", "高峰", "徐丽", "", "", "理工学院", ""],
        ["微信公众号", "坏行", "12", "", "高峰", "徐丽", "", "", "理工学院", ""]]


@pytest.fixture(autouse=True)
def directory(runner):
    sync_and_grant(runner, [("wangwu", "office"), ("sunqi", "admin"), ("zhouba", "publicity")])


def post_form(web, form: dict):
    """POST /accounts/import as a browser does. The body is encoded in memory: werkzeug's test
    client would spool a large one to a temporary file it never closes."""
    boundary, body = encode_multipart(MultiDict(form))
    return web.client.post("/accounts/import", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")


def upload(web, data: bytes, dry_run: str | None = "1", name="台账.xlsx", token=True):
    form = [("file", FileStorage(io.BytesIO(data), filename=name))]
    if dry_run is not None:
        form.append(("dry_run", dry_run))
    if token:
        form.append(("csrf_token", web.csrf_token("/accounts/import")))
    return post_form(web, form)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def sheet_rows(response, sheet="备案台账"):
    return [list(r) for r in load_workbook(io.BytesIO(response.data))[sheet]
            .iter_rows(values_only=True)]


# --- import ---------------------------------------------------------------------------------
@pytest.mark.parametrize("userid,status", [("wangwu", 200), ("sunqi", 200), ("zhouba", 403),
                                           ("zhangsan", 403), ("liming", 403)])
def test_who_may_import(web, userid, status):
    web.login_as(userid)
    assert web.get("/accounts/import").status_code == status


def test_the_import_page_checks_then_applies_then_changes_nothing(web, session):
    web.login_as("wangwu")
    page = web.get("/accounts/import").get_data(as_text=True)
    assert 'name="csrf_token"' in page and 'enctype="multipart/form-data"' in page
    assert "微信号、公众号id" in page  # the other names of 账号ID, documented on the page

    dry = upload(web, ledger_bytes(ROWS), dry_run="1")
    body = dry.get_data(as_text=True)
    assert dry.status_code == 200
    assert "试导入（未写入）“台账.xlsx”：共 2 行，新增 1，更新 0，无变化 0，错误 1" in body
    assert "“12”不是有效的微信号" in body and "理工学院" in body
    assert count(session, Account) == 0

    done = upload(web, ledger_bytes(ROWS), dry_run="0")
    assert "已导入“台账.xlsx”：共 2 行，新增 1" in done.get_data(as_text=True)
    account = session.scalars(select(Account)).one()
    assert (account.name, account.status, account.filing_no) == (
        "理工学院", "active", "WX-2026-0001")
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "import")).one()
    assert entry.actor == "wangwu" and entry.after["file"] == "台账.xlsx"

    again = upload(web, ledger_bytes(ROWS), dry_run="0").get_data(as_text=True)
    assert "新增 0，更新 0，无变化 1，错误 1" in again
    assert len(session.scalars(select(AuditLog).where(AuditLog.action == "import")).all()) == 1


def test_the_pages_form_sends_both_dry_run_values_and_means_check(web, session):
    web.login_as("wangwu")
    answer = post_form(web, [("file", FileStorage(io.BytesIO(ledger_bytes(ROWS)), "x.xlsx")),
                             ("dry_run", "0"), ("dry_run", "1"),
                             ("csrf_token", web.csrf_token("/accounts/import"))])
    assert "试导入（未写入）" in answer.get_data(as_text=True) and count(session, Account) == 0


def test_without_the_csrf_token_nothing_is_imported(web, session):
    web.login_as("wangwu")
    answer = upload(web, ledger_bytes(ROWS), dry_run="0", token=False)
    assert answer.status_code == 400 and "安全令牌" in answer.get_data(as_text=True)
    assert count(session, Account) == 0


@pytest.mark.parametrize("data,words", [
    (b"platform,name\nWX,abc\n", "文件不是 Excel 工作簿（.xlsx）"),
    (ledger_bytes(ROWS)[:3000], "文件不是 Excel 工作簿（.xlsx）"),
    (bytes(5 * 2**20 + 1), "文件太大（5.0 MB），台账文件不能超过 5 MB"),
])
def test_a_bad_file_gets_a_clear_message_and_writes_nothing(web, session, data, words):
    web.login_as("wangwu")
    answer = upload(web, data, dry_run="0")
    assert answer.status_code == 400 and words in answer.get_data(as_text=True)
    assert count(session, Account) == 0
    assert session.scalar(select(AuditLog).where(AuditLog.action == "import")) is None


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(web, session):
    web.login_as("wangwu")
    answer = upload(web, bytes(6 * 2**20), dry_run="0")
    assert answer.status_code == 413
    assert "不能超过 5 MB" in answer.get_data(as_text=True)
    assert count(session, Account) == 0


def test_no_file_is_asked_for_again(web):
    web.login_as("wangwu")
    answer = web.client.post("/accounts/import", data={
        "csrf_token": web.csrf_token("/accounts/import"), "dry_run": "1"})
    assert answer.status_code == 400 and "请选择要导入的台账文件" in answer.get_data(as_text=True)


def test_other_posts_keep_the_64_kib_limit(web):
    web.login_as("sunqi")
    answer = web.post("/admin/roles/grant", {"userid": "x" * 70_000, "role": "office"})
    assert answer.status_code == 413


# --- exports --------------------------------------------------------------------------------
def test_the_registry_download_is_the_members_scope(web, app):
    make_account(app, name="文法学院微信", external_id="wenfa2019", filing_no="WX-2025-0001")
    make_account(app, name="理工学院", external_id="ligong2020", department_id=7,
                 filing_no="WX-2025-0002")
    web.login_as("zhangsan")  # 文法学院 staff
    answer = web.get("/accounts.xlsx")
    assert answer.status_code == 200
    assert answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert answer.headers["Content-Disposition"].endswith(
        "filename*=UTF-8''%E5%A4%87%E6%A1%88%E5%8F%B0%E8%B4%A6-2026-11-25.xlsx")
    rows = sheet_rows(answer)
    assert rows[0][:10] == HEADERS and [r[1] for r in rows[1:]] == ["文法学院微信"]
    web.login_as("wangwu")
    assert [r[1] for r in sheet_rows(web.get("/accounts.xlsx?department=7"))[1:]] == ["理工学院"]
    assert [r[1] for r in sheet_rows(web.get("/accounts.xlsx?q=wenfa"))[1:]] == ["文法学院微信"]
    assert web.get("/accounts.xlsx?platform=脸书").status_code == 400
    assert web.get("/accounts.xlsx?status=gone").status_code == 400


def test_filings_review_and_audit_downloads(web, wecom):
    say(wecom, "zhangsan", "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019", "确认")
    web.login_as("lisi")  # 文法学院 too
    filings = sheet_rows(web.get("/filings.xlsx?kind=register"), "全部申请")
    assert [r[:3] for r in filings[1:]] == [["#1", "登记", "文法学院"]]
    assert web.get("/filings.xlsx?kind=nope").status_code == 400
    assert web.get("/review/2025.xlsx").status_code == 403
    assert web.get("/audit.xlsx").status_code == 403
    web.login_as("zhouba")  # publicity reads the review and the audit log
    review = web.get("/review/2025.xlsx")
    assert review.status_code == 200 and "%E5%B9%B4%E6%A3%80%E8%BF%9B%E5%BA%A6-2025-" in \
        review.headers["Content-Disposition"]
    assert web.get("/review/1999.xlsx").status_code == 404
    audit = sheet_rows(web.get("/audit.xlsx?person=张三"), "审计日志")
    assert [r[3] for r in audit[1:]] == ["提交"]
    assert web.get("/audit.xlsx?since=yesterday").status_code == 400
    assert 'href="/audit.xlsx?person=' in web.get("/audit?person=张三").get_data(as_text=True)


def test_the_template_download(web):
    web.login_as("zhangsan")
    assert sheet_rows(web.get("/accounts/template.xlsx"))[0][:10] == HEADERS


# --- paper ----------------------------------------------------------------------------------
def test_the_print_page_and_the_word_form(web, wecom, session):
    say(wecom, "zhangsan", "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019\n"
                           "用途：<b>学院新闻</b>", "确认")
    filing = session.scalars(select(Filing)).one()
    web.login_as("lisi")
    page = web.get(f"/filings/{filing.id}/print").get_data(as_text=True)
    assert "<p class=\"annex\">附表1</p>" in page
    assert "<h1>西安广播电视大学各级官方微博、微信登记表</h1>" in page
    for words in ("<th>账号ID</th><td>wenfa2019</td>", "<th>负责人</th><td>李明</td>",
                  "<th>备案编号</th><td>（由党政办公室统一填写）</td>", "部门负责人签字：",
                  "部门盖章：", "print/form.css", f"/filings/{filing.id}.docx"):
        assert words in page
    assert "&lt;b&gt;学院新闻&lt;/b&gt;" in page  # what a member typed is text, not markup
    word = web.get(f"/filings/{filing.id}.docx")
    assert word.status_code == 200 and "filename*=UTF-8''%E9%99%84%E8%A1%A81" in \
        word.headers["Content-Disposition"]
    doc = Document(io.BytesIO(word.data))
    assert doc.paragraphs[1].text == "西安广播电视大学各级官方微博、微信登记表"
    web.login_as("liulei")  # 经济管理学院: not theirs
    assert web.get(f"/filings/{filing.id}/print").status_code == 404
    assert web.get(f"/filings/{filing.id}.docx").status_code == 404
    assert web.get("/filings/999999/print").status_code == 404


def test_blank_forms(web):
    web.login_as("zhangsan")
    blank = web.get("/forms/annual.docx")
    assert blank.status_code == 200
    assert Document(io.BytesIO(blank.data)).paragraphs[0].text == "附表3"
    assert web.get("/forms/nope.docx").status_code == 404
    web.client.delete_cookie("filingbot_session")
    assert web.get("/forms/register.docx").status_code == 302  # to /login


# --- the pages link to their files ----------------------------------------------------------
def links(html: str, ending: str) -> list[str]:
    import html as markup
    import re
    return [markup.unescape(h) for h in re.findall(r'href="([^"]+)"', html) if ending in h]


def test_each_page_links_to_its_files_and_the_links_work(web, wecom, session):
    make_account(wecom.app)
    make_account(wecom.app, name="理工学院微信", external_id="ligong", filing_no="WX-2025-0002",
                 department_id=6)
    say(wecom, "zhangsan", "登记\n平台：抖音\n账号名称：文法学院抖音\n账号ID：wfdy\n用途：学院新闻",
        "确认")
    web.login_as("wangwu")
    page = web.get("/accounts?q=文法").get_data(as_text=True)
    [href] = links(page, ".xlsx")
    assert href.startswith("/accounts.xlsx?") and "q=" in href  # the filter goes along
    names = [r[1] for r in sheet_rows(web.get(href))[1:]]
    assert names == ["文法学院微信"]
    page = web.get("/review/2025").get_data(as_text=True)
    [href] = links(page, ".xlsx")
    assert href == "/review/2025.xlsx" and web.get(href).status_code == 200
    page = web.get("/filings/1").get_data(as_text=True)
    assert links(page, "/print") == ["/filings/1/print"]
    assert "文法学院抖音" in web.get("/filings/1/print").get_data(as_text=True)
    [href] = links(page, ".docx")
    text = "\n".join(p.text for p in Document(io.BytesIO(web.get(href).data)).paragraphs)
    assert href == "/filings/1.docx" and "登记" in text


def test_the_assessment_download_has_the_pages_figures_and_their_total(web, wecom, clock):
    make_account(wecom.app)  # 文法学院微信: no 年检 for last year
    make_account(wecom.app, name="理工学院微信", external_id="ligong", filing_no="WX-2025-0002",
                 department_id=6)
    say(wecom, "zhangsan", "登记\n平台：抖音\n账号名称：文法学院抖音\n账号ID：wfdy\n用途：学院新闻",
        "确认")
    say(wecom, "liming", "同意 1")  # one decision, timed
    year = clock.local_now().year
    web.login_as("zhangsan")
    assert web.get(f"/assessment/{year}.xlsx").status_code == 403
    web.login_as("zhouba")
    page = web.get(f"/assessment/{year}").get_data(as_text=True)
    [href] = links(page, ".xlsx")
    assert href == f"/assessment/{year}.xlsx"
    response = web.get(href)
    assert "%E8%80%83%E6%A0%B8%E7%BB%9F%E8%AE%A1" in response.headers["Content-Disposition"]
    rows = sheet_rows(response, f"考核统计{year}")
    assert rows[0] == ["部门", "账号", "提交申请", "年检按时", "年检逾期", "年检未交", "限期整改",
                       "不合格", "责令注销", "冒用举报", "审批用时中位数（小时）"]
    by_name = {r[0]: r[1:] for r in rows[1:]}
    assert by_name["文法学院"][:5] == [1, 1, 0, 0, 1]  # its account, its 登记, its missing 年检
    assert by_name["文法学院"][9] is not None and by_name["理工学院"][9] is None
    assert rows[-1][0] == "合计"
    assert rows[-1][1:10] == [sum(r[i] for r in rows[1:-1]) for i in range(1, 10)]
    # the page shows the same figures, row for row
    row = page.split('data-department="5"')[1].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("<")[0] for c in row.split("<td")[2:11]]
    assert cells == [str(v) for v in by_name["文法学院"][:9]]
    assert web.get("/assessment/1999.xlsx").status_code == 404
