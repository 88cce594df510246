"""Printable forms as Word documents (issue #12 §3): a filing as 附表1/2/3 with every field,
the 备案编号, the decision trail and the boxes to sign and stamp, read back with python-docx;
and a blank form per kind."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from sqlalchemy import select

from bot.notify import unit_of_work
from models import Filing
from tests.factories import make_account
from tests.wecom import say, sync_and_grant, tap
from workflow.access import viewer
from workflow.kinds import KINDS
from workflow.ledger import printing
from workflow.queries import filing_detail

SCHOOL = "西安广播电视大学"


@pytest.fixture(autouse=True)
def directory(runner):
    sync_and_grant(runner, [("wangwu", "office")])


def read_back(doc) -> tuple[list[str], list[list[list[str]]]]:
    """Save and reopen: the paragraphs' text and every table as rows of cell texts."""
    out = io.BytesIO()
    printing.save(doc, out)
    reopened = Document(io.BytesIO(out.getvalue()))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in reopened.tables]
    return [p.text for p in reopened.paragraphs], tables, reopened


def detail_of(app, filing_id, userid="wangwu"):
    with unit_of_work(app) as uow:
        detail = filing_detail(uow.session, viewer(uow.session, userid), filing_id)
        uow.session.expunge_all()
        return detail


def test_an_approved_registration_prints_as_annex_1(app, wecom, session):
    say(wecom, "zhangsan", "登记\n平台：微信公众号\n账号名称：文法学院\n账号ID：wenfa2019\n"
                           "用途：学院新闻\n开通时间：2019-09", "确认")
    tap(wecom, "liming", "确认")
    tap(wecom, "wangwu", "批准")
    filing = session.scalars(select(Filing)).one()
    detail = detail_of(app, filing.id)
    paragraphs, tables, doc = read_back(printing.filing_document(detail, school=SCHOOL))

    assert paragraphs[0] == "附表1"
    assert paragraphs[1] == "西安广播电视大学各级官方微博、微信登记表"
    assert doc.core_properties.title == "附表1 官方账号登记表"
    assert paragraphs[-1] == "注：1、登记表需要签章后交至党政办公室备案；" \
                             "2、备案编号由党政办公室统一填写。"
    fields, trail, boxes = tables
    rows = dict((label, value) for label, value in fields)
    assert rows["备案编号"] == "WX-2026-0001" and rows["事项编号"] == f"#{filing.id}"
    assert rows["申请部门"] == "文法学院" and rows["填表人"] == "张三"
    for label, value in detail.rows:  # every field of the form, as the filing page shows it
        assert rows[label] == value
    labels = ("平台", "账号名称", "账号ID", "负责人", "管理员", "用途", "开通时间")
    assert [rows[k] for k in labels] == [
        "微信公众号", "文法学院", "wenfa2019", "李明", "张三", "学院新闻", "2019-09"]
    assert trail[0] == ["环节", "结果", "审批人", "意见", "时间"]
    assert [row[:3] for row in trail[1:]] == [["部门确认", "已确认", "李明"],
                                              ["党政办审核", "已批准", "王五"]]
    assert trail[1][4].startswith("2026-11-25 ")
    assert [cell.split("\n")[0] for cell in boxes[0]] == ["部门负责人签字：", "部门盖章："]
    assert all(cell.endswith("年\u3000\u3000月\u3000\u3000日") for cell in boxes[0])
    east_asian = doc.styles["Normal"].element.find(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}rPr")
    assert "宋体" in [v for v in east_asian[0].attrib.values()]


def test_a_waiting_application_and_an_annual_review_print_as_annex_2_and_3(app, wecom, session):
    say(wecom, "zhangsan", "申请\n平台：微信公众号\n拟用名称：文法新声\n申请理由：宣传\n"
                           "内容定位：学院动态", "确认")
    make_account(app)
    say(wecom, "zhangsan", "年检\n账号：1\n年度：2025\n发文数量：120\n粉丝数：3000\n"
                       "审核制度：是\n专人管理：是\n安全事件：无", "确认")
    apply, annual = session.scalars(select(Filing).order_by(Filing.id)).all()

    paragraphs, tables, _ = read_back(printing.filing_document(detail_of(app, apply.id),
                                                               school=SCHOOL))
    assert paragraphs[:2] == ["附表2", "西安广播电视大学各级官方微博、微信申请表"]
    rows = dict(tables[0])
    assert rows["备案编号"] == "（由党政办公室统一填写）" and rows["拟用名称"] == "文法新声"
    assert rows["当前状态"] == "待部门确认"
    assert "尚无审批记录" in paragraphs
    assert [c.split("\n")[0] for c in tables[1][0]] == ["部门负责人签字：", "部门盖章："]

    paragraphs, tables, _ = read_back(printing.filing_document(detail_of(app, annual.id),
                                                               school=SCHOOL))
    assert paragraphs[:2] == ["附表3", "西安广播电视大学各级官方微博、微信年度审核表"]
    rows = dict(tables[0])
    assert rows["账号"] == "文法学院微信（WX-2025-0001）" and rows["年度"] == "2025"
    assert rows["审核制度"] == "是" and rows["安全事件"] == "无"
    assert rows["备案编号"] == "WX-2025-0001"


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_blank_form_per_kind(kind):
    paragraphs, tables, doc = read_back(printing.blank_document(kind, school=SCHOOL))
    title = printing.form_title(kind, SCHOOL)
    assert title.title in paragraphs and title.title.startswith(SCHOOL)
    rows = dict(tables[0])
    assert rows["备案编号"] == "（由党政办公室统一填写）"
    assert {f.label for f in KINDS[kind].form.fields} <= set(rows)
    if "平台" in rows:
        assert rows["平台"].startswith("□新浪微博") and "□其他" in rows["平台"]
    if kind == "annual":
        assert rows["审核制度"] == "□是\u3000\u3000□否"
    assert [c.split("\n")[0] for c in tables[-1][0]] == ["部门负责人签字：", "部门盖章："]


def test_annex_numbers_and_file_names():
    assert [printing.form_title(k, SCHOOL).annex for k in ("register", "apply", "annual")] == \
        ["附表1", "附表2", "附表3"]
    assert printing.form_title("register", SCHOOL).short == "官方账号登记表"
    assert printing.file_name("register", date(2026, 12, 4), 12) == \
        "附表1官方账号登记表-12-2026-12-04.docx"
    assert printing.file_name("close", date(2026, 12, 4)) == "官方账号注销申请表-2026-12-04.docx"
