"""Issue 14 (what the trials found), item 14: departments that never answer are tracked. A
department with no active account and no 零报告 gets the campaign notice every 7 days in the
review window (first its people most likely to answer, its heads from the third round, or from
the first when it has nobody else), and the digest, the final report, the /review page and its
workbook list it as 未回复. Driven through the real reminder run, the emulator and the web client."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session

from bot import reminders
from bot.clock import SHANGHAI
from models import Department, Membership, ReminderSent
from tests.factories import make_account, make_filing
from tests.web.actions import WebActions
from tests.wecom import say, sync_and_grant

GRANTS = [("wangwu", "office"), ("zhaoliu", "office"), ("zhouba", "publicity"),
          ("zhengshi", "tech"), ("sunqi", "admin")]
UNANSWERED = "未回复（没有账号，也未报零报告）的部门"


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    sync_and_grant(runner, GRANTS)


@pytest.fixture
def web(app, emulator):
    return WebActions(app, emulator)


def run_on(app, clock, day: date) -> dict:
    clock.at = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=10)
    return reminders.run(app, day)


def notices(wecom, userid: str) -> list[str]:
    wecom.drain()
    return [t for t in wecom.messages(userid) if "年检通知" in t]


def zero_rounds(session, department_id: int) -> list[tuple[int, list]]:
    return [(r.seq, sorted(r.recipients)) for r in session.scalars(
        select(ReminderSent).where(ReminderSent.kind == "zero",
                                   ReminderSent.target == str(department_id))
        .order_by(ReminderSent.seq))]


@pytest.fixture
def contacts(app):
    """理工学院 (7): 徐丽 ran its closed account, 高峰 heads it; 开放教育学院 (8): nobody but its
    head 钱进 ever did anything for it (李四, its member, filed for 文法学院 only); 文法学院 (5)
    has an active account."""
    make_account(app, name="理工学院旧号", platform="WB", external_id="lg-old", department_id=7,
                 status="closed", filing_no="WB-2020-0001", admins=("xuli",))
    make_account(app)  # 文法学院微信, active: 文法学院 answers through its 年检
    make_filing(app, kind="report", submitter="lisi", department_id=5, status="done")


def test_item14_a_silent_department_is_told_every_seven_days_contacts_first_heads_from_round_3(
        app, wecom, clock, session, contacts):
    run_on(app, clock, date(2027, 1, 4))
    [first] = notices(wecom, "xuli")
    assert "理工学院" in first and "还没有回复" in first and "登记" in first
    assert "部门负责人（高峰）" in first and "零报告" in first  # a non-head cannot file it
    assert notices(wecom, "gaofeng") == []  # the head only from the third round
    [head] = notices(wecom, "qianjin")  # 开放教育学院 has no contacts: its head at once
    assert "请回复“零报告”" in head
    assert notices(wecom, "lisi") == [] and notices(wecom, "zhangwei") == []
    assert notices(wecom, "zhangsan") == []  # 文法学院 has an active account

    assert run_on(app, clock, date(2027, 1, 4)).get("zero", 0) == 0  # a rerun: nothing
    assert run_on(app, clock, date(2027, 1, 7)).get("zero", 0) == 0  # 3 days later: nothing
    run_on(app, clock, date(2027, 1, 11))
    assert len(notices(wecom, "xuli")) == 2 and notices(wecom, "gaofeng") == []
    assert len(notices(wecom, "qianjin")) == 2
    run_on(app, clock, date(2027, 1, 18))
    assert len(notices(wecom, "xuli")) == 3
    [escalated] = notices(wecom, "gaofeng")
    assert "第 3 次" in escalated and "请回复“零报告”" in escalated
    assert zero_rounds(session, 7) == [(1, ["xuli"]), (2, ["xuli"]), (3, ["gaofeng", "xuli"])]
    assert zero_rounds(session, 8) == [(1, ["qianjin"]), (2, ["qianjin"]), (3, ["qianjin"])]

    # 理工学院 files its 零报告; 开放教育学院 has its account registered: both stop
    assert "已记录理工学院" in say(wecom, "gaofeng", "零报告")
    make_account(app, name="开放教育学院微信", external_id="kf2027", department_id=8,
                 filing_no="WX-2027-0001", admins=("zhangwei",))
    report = run_on(app, clock, date(2027, 1, 25))
    assert report.get("zero", 0) == 6 - 2  # the offices' and 经济管理学院 still owe it
    assert len(notices(wecom, "xuli")) == 3 and len(notices(wecom, "qianjin")) == 3
    assert [seq for seq, _ in zero_rounds(session, 7)] == [1, 2, 3]


def test_item14_the_digest_and_the_final_report_list_silent_departments_as_unanswered(
        app, wecom, clock, session, contacts):
    run_on(app, clock, date(2027, 1, 4))  # a Monday: the digest
    wecom.drain()
    digest = wecom.messages("wangwu")[-1]
    assert "周报" in digest
    line = next(t for t in digest.splitlines() if t.startswith(UNANSWERED))
    assert line.startswith(UNANSWERED + " 6 个：")
    assert "理工学院" in line and "开放教育学院" in line and "文法学院" not in line
    say(wecom, "gaofeng", "零报告")
    run_on(app, clock, date(2027, 4, 1))  # after the window: the final report
    wecom.drain()
    final = wecom.messages("wangwu")[-1]
    assert "最终报告" in final and "零报告部门：理工学院" in final
    line = next(t for t in final.splitlines() if t.startswith(UNANSWERED))
    assert line.startswith(UNANSWERED + " 5 个：") and "开放教育学院" in line
    assert "理工学院" not in line


def test_item14_the_digest_shows_twenty_names_at_most(app, wecom, clock):
    with Session(app.extensions["filingbot.engine"]) as s:
        for i in range(30):
            s.add(Department(id=100 + i, name=f"部门{100 + i}", parent_id=1))
            s.add(Membership(userid="qianjin", department_id=100 + i, is_leader=True))
        s.commit()
    run_on(app, clock, date(2027, 1, 4))
    wecom.drain()
    line = next(t for t in wecom.messages("wangwu")[-1].splitlines() if t.startswith(UNANSWERED))
    assert line.startswith(UNANSWERED + " 37 个：") and line.endswith("……")
    assert line.count("、") == 19


def test_item14_the_review_page_and_its_workbook_call_them_unanswered(web, app, contacts):
    web.login_as("wangwu")
    page = web.get("/review/2026").get_data(as_text=True)
    assert "未答复" not in page
    assert UNANSWERED + " 6 个" in page
    section = page.split(UNANSWERED)[1].split("</")[0]
    assert "理工学院" in section and "开放教育学院" in section and "文法学院" not in section
    row = page.split('data-department="8"')[1].split("</tr>")[0]
    assert "未回复" in row
    answer = web.get("/review/2026.xlsx")
    assert answer.status_code == 200
    book = load_workbook(BytesIO(answer.data))
    sheet = book["未回复部门"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0] == ["部门", "负责人"]
    assert ["理工学院", "高峰"] in rows and ["开放教育学院", "钱进"] in rows


def test_item14_the_review_page_names_fifty_and_points_to_the_workbook_for_the_rest(web, app):
    with Session(app.extensions["filingbot.engine"]) as s:
        for i in range(60):
            s.add(Department(id=100 + i, name=f"部门{100 + i}", parent_id=1))
            s.add(Membership(userid="qianjin", department_id=100 + i, is_leader=True))
        s.commit()
    web.login_as("wangwu")
    page = web.get("/review/2026").get_data(as_text=True)
    section = page.split(UNANSWERED)[1].split("</p>")[0]
    assert section.startswith(" 67 个：") and section.count("、") == 49
    assert section.endswith("……（全部名单见导出 Excel 的「未回复部门」表）")
