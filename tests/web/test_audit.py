"""/audit: office, publicity and admin read the audit log, filtered and paged, in Beijing time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.clock import SHANGHAI
from models import AuditLog


@pytest.fixture
def office(web, grant):
    grant("wangwu", "office")
    web.login_as("zhangsan")  # zhangsan (张三) known to the directory by name
    web.login_as("wangwu")
    return web


def add(session, at, actor="zhangsan", action="submit", filing_id=None, account_id=None,
        after=None):
    session.add(AuditLog(at=at, actor=actor, action=action, filing_id=filing_id,
                         account_id=account_id, before={}, after=after or {"status": "x"}))
    session.commit()


def beijing(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize("userid,role,status", [
    ("wangwu", "office", 200), ("zhouba", "publicity", 200), ("sunqi", "admin", 200),
    ("zhengshi", "tech", 403), ("liming", None, 403), ("zhangsan", None, 403),
])
def test_who_may_read_the_audit_log(web, grant, userid, role, status):
    if role:
        grant(userid, role)
    web.login_as(userid)  # liming is a WeCom department leader: dept_head, still 403
    assert web.get("/audit").status_code == status


def test_entries_show_in_beijing_time_with_names(office, session):
    add(session, beijing(2026, 11, 24, 23, 30), filing_id=7, account_id=3,
        after={"status": "awaiting_dept"})
    page = office.get("/audit").get_data(as_text=True)
    assert "2026-11-24 23:30" in page
    assert "张三" in page and "#7" in page and "#3" in page and "待部门确认" in page


def test_filters_by_filing_account_and_person(office, session):
    at = beijing(2026, 11, 20, 9, 0)
    add(session, at, filing_id=1, actor="zhangsan", after={"mark": "MARK-A1"})
    add(session, at, filing_id=2, account_id=9, actor="lisi", after={"mark": "MARK-B2"})
    add(session, at, actor="cli", action="role:grant", after={"mark": "MARK-C3"})

    def marks(query):
        body = office.get("/audit?" + query).get_data(as_text=True)
        return {m for m in ("MARK-A1", "MARK-B2", "MARK-C3") if m in body}

    assert marks("") == {"MARK-A1", "MARK-B2", "MARK-C3"}
    assert marks("filing=1") == {"MARK-A1"}
    assert marks("filing=%231") == {"MARK-A1"}  # "#1" as written on pages
    assert marks("account=9") == {"MARK-B2"}
    assert marks("person=zhangsan") == {"MARK-A1"}
    assert marks("person=张三") == {"MARK-A1"}  # by name, as the directory knows it
    assert marks("person=cli") == {"MARK-C3"}
    assert marks("person=nobody") == set()


def test_the_date_range_is_in_beijing_days(office, session):
    add(session, beijing(2026, 11, 24, 23, 59), after={"mark": "LATE24"})
    add(session, beijing(2026, 11, 25, 0, 1), after={"mark": "EARLY25"})
    day24 = office.get("/audit?since=2026-11-24&until=2026-11-24").get_data(as_text=True)
    assert "LATE24" in day24 and "EARLY25" not in day24
    from25 = office.get("/audit?since=2026-11-25").get_data(as_text=True)
    assert "EARLY25" in from25 and "LATE24" not in from25


@pytest.mark.parametrize("query,message", [
    ("filing=abc", "事项编号应是数字"), ("account=-1", "账号编号应是数字"),
    ("since=2026-13-01", "起始日期应写成"), ("until=yesterday", "截止日期应写成"),
    ("since=2026-11-25&until=2026-11-01", "起始日期不能晚于截止日期"),
])
def test_bad_filters_get_a_chinese_message_not_a_500(office, query, message):
    answer = office.get("/audit?" + query)
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)


def test_pages_of_fifty_newest_first(office, session):
    start = beijing(2026, 11, 1, 8, 0)
    for i in range(60):
        session.add(AuditLog(at=start + timedelta(minutes=i), actor="zhangsan", action="submit",
                             filing_id=1000 + i, before={}, after={}))
    session.commit()
    first = office.get("/audit?person=zhangsan").get_data(as_text=True)
    assert "共 60 条" in first and "第 1 / 2 页" in first
    assert "#1059" in first and "#1010" in first and "#1009" not in first
    assert first.index("#1059") < first.index("#1058")
    second = office.get("/audit?person=zhangsan&page=2").get_data(as_text=True)
    assert "#1009" in second and "#1000" in second and "#1010" not in second
    assert "上一页" in second and "下一页" not in second
    assert "person=zhangsan" in second  # the pager keeps the filters
    assert "#1000" in office.get("/audit?person=zhangsan&page=99").get_data(as_text=True)
