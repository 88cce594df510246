"""Lists read a page, not a table (issue 16 item 1): with 500 accounts, 500 filings and 500
audit entries in the registry, each page and chat listing fetches about a page of rows.

Rows are counted as the database returns them to the app: every SELECT a Session runs
(do_orm_execute) is counted as its result is read, the web pages' and the callback's included."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from models import Account, AuditLog, Filing
from models.filing import filing_columns
from tests.wecom import sync_and_grant

N = 500
BOUND = 80  # a page (≤ 50 rows) and what every request reads: its user, roles, departments …


@contextmanager
def rows_fetched():
    """Count the rows every Session statement returns while the block runs: counts[0]."""
    counts = [0]

    def count(state):
        if not state.is_select:
            return None  # the statement runs as usual
        frozen = state.invoke_statement().freeze()
        counts[0] += len(frozen().all())
        return frozen()

    event.listen(OrmSession, "do_orm_execute", count)
    try:
        yield counts
    finally:
        event.remove(OrmSession, "do_orm_execute", count)


@pytest.fixture
def province(app, runner):
    """文法学院 (5) holds N accounts; N 登记 wait for the office, N 年检 of 2025 passed; N
    audit entries. Written as a bulk loader would: Core inserts, filter columns given."""
    sync_and_grant(runner, [("wangwu", "office")])
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    with Session(app.extensions["filingbot.engine"]) as session:
        ids = session.scalars(insert(Account).returning(Account.id), [
            {"name": f"文法学院号{i}", "platform": "WX", "external_id": f"wf{i:04d}",
             "department_id": 5, "status": "active", "filing_no": f"WX-2025-{i:04d}",
             "details": {}, "admin_userids": ["zhangsan"], "version": 1,
             "created_at": now, "updated_at": now} for i in range(N)]).all()
        registers = [{"platform": "WB", "external_id": f"new{i:04d}", "name": f"新号{i}"}
                     for i in range(N)]
        annuals = [{"account": {"id": a, "name": f"号{a}"}, "year": 2025} for a in ids]
        session.execute(insert(Filing), [
            {"kind": kind, "submitter": "zhangsan", "department_id": 5, "account_id": account,
             "status": status, "fields": fields, **filing_columns(fields), "version": 1,
             "created_at": now - timedelta(days=30), "updated_at": now}
            for kind, status, fields, account in [
                *(("register", "awaiting_office", f, None) for f in registers),
                *(("annual", "approved", f, f["account"]["id"]) for f in annuals)]])
        session.execute(insert(AuditLog), [
            {"at": now + timedelta(seconds=i), "actor": "zhangsan", "action": "submit",
             "account_id": ids[i], "before": {}, "after": {"status": "awaiting_office"}}
            for i in range(N)])
        session.commit()
    return ids


def test_the_counter_counts_every_row_a_statement_returns(app, province):
    with Session(app.extensions["filingbot.engine"]) as session, rows_fetched() as fetched:
        assert len(session.scalars(select(Account)).all()) == N
    assert fetched[0] == N


@pytest.mark.parametrize("path", ["/accounts?page=3", "/accounts?platform=WX&page=25",
                                  "/review/2025", "/assessment/2025", "/audit?page=4"])
def test_a_page_fetches_about_a_page_of_rows(web, province, path):
    web.login_as("wangwu")
    with rows_fetched() as fetched:
        answer = web.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert fetched[0] <= BOUND, (path, fetched[0])


def test_the_review_page_counts_the_bulk_loaded_annuals_through_their_year_column(web, province):
    web.login_as("wangwu")
    text = web.get("/review/2025").get_data(as_text=True)
    assert f"已通过 {N}，审核中 0，未提交 0" in text


@pytest.mark.parametrize("userid, words, heading", [
    ("liming", "查询", f"本部门账号 {N} 个，进行中的事项 {N} 件"),
    ("wangwu", "待办", f"等您处理的事项共 {N} 件，以下是最早的 20 件")])
def test_chat_listings_fetch_a_screen_of_rows(wecom, province, userid, words, heading):
    with rows_fetched() as fetched:
        reply = wecom.as_user(userid).say(words).text
    assert reply.startswith(heading), reply
    assert fetched[0] <= BOUND, (words, fetched[0])
