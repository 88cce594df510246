"""Excel exports (issue #12 §1): the registry, filings, the review's progress and the audit log,
read back with openpyxl — headers in row 1 (frozen), the same rows the queries give the pages
(permissions and filters included, every page), dates as Excel dates, and the file names."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.notify import unit_of_work
from models import AuditLog, Filing
from tests.factories import make_account, make_filing
from tests.ledger_files import HEADERS
from tests.wecom import say, sync_and_grant
from workflow.access import Viewer, viewer
from workflow.ledger import export, stream
from workflow.ledger.importing import run_import
from workflow.ledger.names import content_disposition, download_name
from workflow.queries import FilingFilters, RegistryFilters, registry

OFFICE = Viewer("wangwu", frozenset({"office"}), ())


@pytest.fixture(autouse=True)
def directory(runner):
    sync_and_grant(runner, [("wangwu", "office")])


def workbook(write, *args):
    out = io.BytesIO()
    write(*args, out)
    return load_workbook(io.BytesIO(out.getvalue()))


def values(sheet) -> list[list]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def accounts(app):
    make_account(app, name="文法学院微信", external_id="wenfa2019", filing_no="WX-2025-0001")
    make_account(app, name="文法学院微博", platform="WB", external_id="1234567890",
                 filing_no="WB-2025-0002")
    make_account(app, name="经管学院", external_id="jingguan01", department_id=6,
                 filing_no="WX-2025-0003", status="closed")
    make_account(app, name="理工学院", external_id="ligong2020", department_id=7,
                 filing_no="WX-2025-0004")


def test_the_registry_workbook_is_the_registry_page_in_ledger_columns(app, monkeypatch):
    accounts(app)
    monkeypatch.setattr(stream, "CHUNK", 2)  # several chunks, all of them written
    with unit_of_work(app) as uow:
        book = workbook(export.registry_workbook, uow.session, OFFICE, RegistryFilters())
        listed = [(a.name, a.filing_no, a.status)
                  for a in registry(uow.session, OFFICE, size=100).items]
    sheet = book["备案台账"]
    rows = values(sheet)
    assert rows[0] == [*HEADERS, "状态", "登记日期", "最近年检年度"]
    assert [(r[1], r[9], r[10]) for r in rows[1:]] == [
        (name, number, {"active": "正常", "closed": "已注销"}[status])
        for name, number, status in listed]
    assert rows[2][:3] == ["新浪微博", "文法学院微博", "1234567890"]
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width == 24 and sheet.column_dimensions["I"].width == 18
    created = sheet["L2"]
    assert created.is_date and created.number_format == "yyyy-mm-dd"
    assert isinstance(created.value, datetime)
    assert all(cell.font.bold for cell in sheet[1])


def test_the_registry_workbook_keeps_the_viewers_scope_and_the_filters(app):
    accounts(app)
    with unit_of_work(app) as uow:
        staff = viewer(uow.session, "zhangsan")  # 文法学院 only
        mine = values(workbook(export.registry_workbook, uow.session, staff,
                               RegistryFilters())["备案台账"])
        weibo = values(workbook(export.registry_workbook, uow.session, OFFICE,
                                RegistryFilters(platform="WB"))["备案台账"])
    assert [r[1] for r in mine[1:]] == ["文法学院微信", "文法学院微博"]
    assert [r[1] for r in weibo[1:]] == ["文法学院微博"]


def test_the_cli_export_takes_filters(runner, app, tmp_path):
    accounts(app)
    path = tmp_path / "x.xlsx"
    result = runner.invoke(args=["accounts", "export", str(path), "--department", "5",
                                 "--platform", "微信公众号"])
    assert result.exit_code == 0 and "已导出 1 个账号" in result.output
    bad = runner.invoke(args=["accounts", "export", str(path), "--platform", "脸书"])
    assert bad.exit_code != 0 and "不在列表中" in bad.output


def test_a_shared_name_is_written_so_the_import_finds_the_same_person(app):
    make_account(app, name="开放教育学院微信", external_id="kaifang01", department_id=8)
    with unit_of_work(app) as uow:
        from models import Account

        account = uow.session.scalars(select(Account)).one()
        account.details = {
            "leader": {"userid": "qianjin", "name": "钱进", "phone": None},
            "admins": [{"userid": "zhangwei", "name": "张伟", "phone": "13800000000"},
                       {"userid": None, "name": "校外王", "phone": "029-88881234"}]}
        uow.commit()
    with unit_of_work(app) as uow:
        rows = values(workbook(export.registry_workbook, uow.session, OFFICE,
                               RegistryFilters())["备案台账"])
    assert rows[1][4:6] == ["钱进", "张伟（zhangwei） 13800000000、校外王 029-88881234"]
    out = io.BytesIO()
    with unit_of_work(app) as uow:
        export.registry_workbook(uow.session, OFFICE, RegistryFilters(), out)
    with unit_of_work(app) as uow:
        report = run_import(uow, out.getvalue(), "x.xlsx", dry_run=True)
    assert report.counts["unchanged"] == 1, report.rows[0].errors


def test_the_template_is_the_ledger_without_rows(app):
    book = workbook(export.template_workbook)
    assert values(book["备案台账"]) == [[*HEADERS, "状态", "登记日期", "最近年检年度"]]
    help_rows = values(book["填写说明"])
    assert help_rows[0] == ["列名", "是否必填", "填写说明"]
    assert ["账号ID", "必填"] == help_rows[3][:2] and "微信号" in help_rows[3][2]
    assert help_rows[11][:2] == ["状态", "导入时忽略"]
    out = io.BytesIO()
    export.template_workbook(out)
    with unit_of_work(app) as uow:
        assert "表头下面没有数据行" in run_import(uow, out.getvalue(), "t.xlsx",
                                                   dry_run=True).error


def test_the_filings_workbook_has_every_field_per_kind(app, wecom):
    say(wecom, "zhangsan", "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019", "确认")
    make_filing(app, kind="report", submitter="liulei", department_id=None,
                status="awaiting_tech", fields={"platform": "WB", "name": "假冒电大",
                                                "link": "https://weibo.com/fake",
                                                "details": "冒用校名"})
    with unit_of_work(app) as uow:
        book = workbook(export.filings_workbook, uow.session, OFFICE, FilingFilters())
        staff = workbook(export.filings_workbook, uow.session, viewer(uow.session, "lisi"),
                         FilingFilters(kind="register"))
    assert book.sheetnames == ["全部申请", "登记", "申请", "变更", "年检", "注销", "举报"]
    everything = values(book["全部申请"])
    assert everything[0] == ["事项编号", "类型", "账号", "部门", "提交人", "状态", "备案编号",
                             "提交时间", "更新时间"]
    assert [r[:6] for r in everything[1:]] == [
        ["#2", "举报", "假冒电大", None, "刘雷", "待技术中心处理"],
        ["#1", "登记", "文法学院", "文法学院", "张三", "待部门确认"]]
    assert book["全部申请"]["H2"].is_date
    register = values(book["登记"])
    assert register[0][7:] == ["平台", "账号名称", "账号ID", "主页链接", "负责人", "管理员", "用途",
                               "开通时间"]
    assert register[1][7:13] == ["微信公众号", "文法学院", "wenfa2019", None, "李明", "张三"]
    assert staff.sheetnames == ["全部申请", "登记"]  # lisi sees 文法学院's filings only
    assert [r[0] for r in values(staff["全部申请"])[1:]] == ["#1"]


def test_the_review_workbook(app):
    accounts(app)
    with unit_of_work(app) as uow:
        book = workbook(export.review_workbook, uow.session, 2025)
    assert book.sheetnames == ["年检进度2025", "未提交年检", "零报告", "未回复部门"]
    progress = values(book["年检进度2025"])
    assert progress[0] == ["部门", "已完成", "审核中", "未提交", "合计"]
    assert progress[-1] == ["合计", 0, 0, 3, 3]
    assert sorted(r[1] for r in values(book["未提交年检"])[1:]) == [
        "文法学院微信", "文法学院微博", "理工学院"]


def test_the_audit_workbook(app, wecom, session):
    say(wecom, "zhangsan", "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019", "确认")
    with unit_of_work(app) as uow:
        book = workbook(export.audit_workbook, uow.session, [])
    rows = values(book["审计日志"])
    assert rows[0] == ["时间", "操作人", "操作人账号", "操作", "事项编号", "台账序号", "变更前",
                       "变更后"]
    submit = next(r for r in rows[1:] if r[3] == "提交")
    filing = session.scalars(select(Filing)).one()
    assert submit[1:3] == ["张三", "zhangsan"] and submit[4] == f"#{filing.id}"
    assert book["审计日志"]["A2"].is_date
    assert len(rows) - 1 == len(session.scalars(select(AuditLog)).all())


def test_download_names_carry_the_date_and_an_rfc5987_name():
    name = download_name("registry", date(2026, 12, 4))
    assert name == "备案台账-2026-12-04.xlsx"
    assert content_disposition(name) == (
        "attachment; filename=\"____-2026-12-04.xlsx\"; "
        "filename*=UTF-8''%E5%A4%87%E6%A1%88%E5%8F%B0%E8%B4%A6-2026-12-04.xlsx")
    assert download_name("review", date(2026, 3, 1), "xlsx", "2025") == \
        "年检进度-2025-2026-03-01.xlsx"
