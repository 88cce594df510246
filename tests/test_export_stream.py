"""Exports stream in chunks (issue #16): each .xlsx is read a chunk of rows at a time
(workflow.ledger.stream.CHUNK, tiny here) with the names a chunk needs looked up for it, and
sent from a temporary file that is gone once the response is read or closed."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select
from sqlmodel import Session

from bot.web import downloads
from models import Account, AuditLog
from tests.factories import make_account, make_filing
from tests.web.actions import WebActions
from tests.wecom import sync_and_grant
from workflow.ledger import stream

CHUNK = 3


@pytest.fixture(autouse=True)
def tiny_chunks(monkeypatch, runner, tmp_path):
    """Chunks of 3 rows, downloads spooled in a folder of the test's own, the office signed in."""
    sync_and_grant(runner, [("wangwu", "office"), ("zhouba", "publicity")])
    monkeypatch.setattr(stream, "CHUNK", CHUNK)
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(downloads, "SPOOL_DIR", str(spool))
    return spool


@pytest.fixture
def web(app, emulator):
    return WebActions(app, emulator)


@pytest.fixture
def office(web):
    web.login_as("wangwu")
    return web


def rows(response, sheet: str) -> list[list]:
    assert response.status_code == 200, response.status_code
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    try:
        return [list(r) for r in book[sheet].iter_rows(min_row=2, values_only=True)]
    finally:
        book.close()


def add_accounts(app, count: int, **details) -> None:
    """`count` accounts, numbered in name and 备案编号, alternately WeChat and Weibo, spread over
    departments 5-8 (so the registry's order, by department then id, is not the insert's)."""
    engine = app.extensions["filingbot.engine"]
    with engine.begin() as conn:
        conn.execute(insert(Account), [
            {"name": f"账号{n:04d}", "platform": ("WX", "WB")[n % 2],
             "external_id": f"id{n:04d}", "department_id": 5 + n % 4, "status": "active",
             "filing_no": f"XC-{n:04d}", "details": details, "admin_userids": [],
             "created_at": datetime.now(UTC)} for n in range(1, count + 1)])


def registry_order(app, **where) -> list[str]:
    """Account names as the registry lists them: by department, then id."""
    with Session(app.extensions["filingbot.engine"]) as session:
        return list(session.scalars(select(Account.name).filter_by(**where)
                                    .order_by(Account.department_id, Account.id)))


def test_the_registry_export_has_every_account_once_in_the_pages_order(app, office):
    add_accounts(app, 3 * CHUNK + 2)
    written = [r[1] for r in rows(office.get("/accounts.xlsx"), "备案台账")]
    assert written == registry_order(app)
    assert len(written) == len(set(written)) == 3 * CHUNK + 2


def test_the_registry_filters_apply_across_chunks(app, office):
    add_accounts(app, 4 * CHUNK)
    written = [r[1] for r in rows(office.get("/accounts.xlsx?platform=WB"), "备案台账")]
    assert written == registry_order(app, platform="WB") and len(written) == 2 * CHUNK
    in_six = [r[1] for r in rows(office.get("/accounts.xlsx?department=6&platform=WB"),
                                 "备案台账")]
    assert in_six == registry_order(app, platform="WB", department_id=6) and in_six


def test_people_are_named_in_every_chunk_namesakes_and_renames_included(app, office):
    # 张伟 is two members (zhangwei, zhangwei2): the userid goes in brackets so that the import
    # finds the same one again; zhangsan was renamed since: the export writes today's name.
    add_accounts(app, 1000, leader={"userid": "zhangwei2", "name": "张伟", "phone": None},
                 admins=[{"userid": "zhangsan", "name": "张老三"},
                         {"userid": "zhangwei", "name": "张伟"}])
    written = rows(office.get("/accounts.xlsx"), "备案台账")
    assert len(written) == 1000
    for row in (written[0], written[999]):
        assert row[4:6] == ["张伟（zhangwei2）", "张三、张伟（zhangwei）"]
    assert {tuple(r[4:6]) for r in written} == {("张伟（zhangwei2）", "张三、张伟（zhangwei）")}


def test_the_filings_export_has_every_filing_once_newest_first_and_filtered(app, office):
    made = []  # (id, kind, status, department), oldest first
    for n in range(8 * CHUNK):
        kind, status = ("register", "change")[n % 2], ("awaiting_dept", "approved")[n % 3 == 0]
        department = 5 + n // 2 % 2
        made.append((make_filing(app, kind=kind, status=status, department_id=department),
                     kind, status, department))
    newest_first = made[::-1]
    book = load_workbook(io.BytesIO(office.get("/filings.xlsx").get_data()), read_only=True)
    listed = {sheet: [r[0] for r in book[sheet].iter_rows(min_row=2, values_only=True)]
              for sheet in ("全部申请", "登记", "变更")}
    book.close()
    assert listed == {"全部申请": [f"#{f[0]}" for f in newest_first],
                      "登记": [f"#{f[0]}" for f in newest_first if f[1] == "register"],
                      "变更": [f"#{f[0]}" for f in newest_first if f[1] == "change"]}
    picked = rows(office.get("/filings.xlsx?kind=change&status=awaiting_dept&department=6"),
                  "全部申请")
    expected = [f"#{f[0]}" for f in newest_first if f[1:] == ("change", "awaiting_dept", 6)]
    assert [r[0] for r in picked] == expected and len(expected) > CHUNK


def test_the_audit_export_has_every_entry_once_newest_first_and_filtered(app, web):
    start = datetime.now(UTC) - timedelta(days=1)
    with Session(app.extensions["filingbot.engine"]) as session:
        # two entries share each moment: the id orders them
        session.add_all([AuditLog(at=start + timedelta(minutes=n // 2),
                                  actor=("zhangsan", "lisi", "ghost")[n % 3],
                                  action="filing:submit", filing_id=n + 1)
                         for n in range(4 * CHUNK)])
        session.commit()
        expected = [(f"#{e.filing_id}" if e.filing_id else None, e.actor) for e in sorted(
            session.scalars(select(AuditLog)), key=lambda e: (e.at, e.id), reverse=True)]
    web.login_as("zhouba")
    written = rows(web.get("/audit.xlsx"), "审计日志")
    assert [(r[4], r[2]) for r in written] == expected  # the directory's grants too
    names = {r[2]: r[1] for r in written}
    assert [names[u] for u in ("zhangsan", "lisi", "ghost")] == ["张三", "李四", None]
    by_name = rows(web.get("/audit.xlsx?person=张三"), "审计日志")
    assert [(r[4], r[2]) for r in by_name] == [e for e in expected if e[1] == "zhangsan"]


def test_the_spooled_file_is_gone_once_the_download_is_read(app, office, tiny_chunks):
    make_account(app)
    response = office.get("/accounts.xlsx")
    assert list(tiny_chunks.iterdir())  # written, not yet sent
    data = response.get_data()
    assert data.startswith(b"PK") and len(data) == response.content_length
    assert not list(tiny_chunks.iterdir())


@pytest.mark.parametrize("blocks_read", [0, 1])
def test_the_spooled_file_is_gone_when_the_client_leaves_early(app, office, tiny_chunks,
                                                               monkeypatch, blocks_read):
    monkeypatch.setattr(downloads, "BLOCK", 512)
    add_accounts(app, 50)
    response = office.get("/accounts.xlsx")
    body = iter(response.response)
    for _ in range(blocks_read):
        assert len(next(body)) == 512
    assert list(tiny_chunks.iterdir())
    response.close()  # what the WSGI server does when the client disconnects
    assert not list(tiny_chunks.iterdir())


def test_no_file_is_left_when_writing_the_workbook_fails(app, tiny_chunks):
    def broken(out):
        out.write(b"PK")
        raise RuntimeError("the database went away")

    with app.test_request_context(), pytest.raises(RuntimeError):
        downloads.spooled(broken, "台账.xlsx", "application/octet-stream")
    assert not list(tiny_chunks.iterdir())
