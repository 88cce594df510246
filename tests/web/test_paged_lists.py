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

from models import Account, AuditLog, Department, Filing
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
                                  "/review/2025", "/assessment/2025", "/audit?page=4",
                                  "/queue?page=2"])
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


def test_the_queue_lists_the_oldest_first_a_page_at_a_time(web, app, province):
    """N 登记 wait for the office: /queue shows them oldest first, 50 a page."""
    with Session(app.extensions["filingbot.engine"]) as session:
        waiting = session.scalars(select(Filing.id).where(Filing.status == "awaiting_office")
                                  .order_by(Filing.id)).all()
    web.login_as("wangwu")
    first = web.get("/queue").get_data(as_text=True)
    assert f"共 {N} 件，最早的在前，第 1 / 10 页" in first
    assert f'/filings/{waiting[0]}"' in first and f'/filings/{waiting[49]}"' in first
    assert f'/filings/{waiting[50]}"' not in first and f'/filings/{waiting[-1]}"' not in first
    assert "/queue?page=2" in first and first.count("tag_mine") == 50  # all the office's
    last = web.get("/queue?page=10").get_data(as_text=True)
    assert f'/filings/{waiting[-1]}"' in last and f'/filings/{waiting[449]}"' not in last
    assert "第 10 / 10 页" in last
    beyond = web.get("/queue?page=11").get_data(as_text=True)
    assert f"共 {N} 件" in beyond and "/filings/" not in beyond


@pytest.fixture
def departments(app):
    """120 more departments (100…219), department 100 + k holding k % 7 active accounts that
    lack their 年检 and one that passed it: 120 more rows in the review's table."""
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    with Session(app.extensions["filingbot.engine"]) as session:
        session.execute(insert(Department), [
            {"id": 100 + k, "name": f"学院{k:03d}", "parent_id": 1, "sort_order": 0,
             "synced_at": now} for k in range(120)])
        session.execute(insert(Account), [
            {"name": f"学院{k}号{i}", "platform": "WX", "external_id": f"d{k}-{i}",
             "department_id": 100 + k, "status": "active", "details": {}, "admin_userids": [],
             "last_review_year": 2025 if i == k % 7 else None, "version": 1,
             "created_at": now, "updated_at": now}
            for k in range(120) for i in range(k % 7 + 1)])
        session.commit()


def test_the_review_page_lists_departments_a_page_at_a_time(web, runner, departments):
    """The school's totals over every department; the table and chart 50 departments a page,
    the most missing first."""
    sync_and_grant(runner, [("wangwu", "office")])
    web.login_as("wangwu")
    accounts = sum(k % 7 + 1 for k in range(120))
    first = web.get("/review/2025").get_data(as_text=True)
    assert (f"全校正常状态账号 {accounts} 个：已通过 120，审核中 0，未提交 {accounts - 120}"
            in first)
    rows = [int(r.split('"')[0]) for r in first.split('data-department="')[1:]]
    assert len(rows) == 50 and rows[0] == 106  # 6 missing: 106, 113, … by id
    assert "第 1 / 3 页" in first and "/review/2025?page=2" in first
    last = web.get("/review/2025?page=3").get_data(as_text=True)
    rows += [int(r.split('"')[0]) for r in
             web.get("/review/2025?page=2").get_data(as_text=True).split('data-department="')[1:]]
    rows += [int(r.split('"')[0]) for r in last.split('data-department="')[1:]]
    assert len(rows) == len(set(rows)) and set(range(100, 220)) <= set(rows)
    assert "第 3 / 3 页" in last  # with the sandbox directory's departments
    assert rows.index(100) > rows.index(101)  # 100 has nothing missing, 101 one


def test_todo_asks_about_its_cards_in_one_query(app, wecom, province):
    """The cards 待办 sent are still queued (not delivered): asking again, 待办 reads whether
    they can still be tapped in one outbox query, not one per card (and sends its next five
    fresh cards, for filings that have none yet)."""
    office = wecom.as_user("wangwu")
    assert office.say("待办").text.startswith(f"等您处理的事项共 {N} 件")
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.extensions["filingbot.engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert office.say("待办").text.startswith(f"等您处理的事项共 {N} 件")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    outbox = [s for s in statements if "outboxmessage" in s.lower()]
    reads = [s for s in outbox if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "card_task_id IN" in reads[0], reads
    assert len(outbox) - len(reads) == 5  # the next five cards queued
