"""Loading an office's ledger (issue #12 §2): export → edit → import round-trips, each error
named in Chinese, a second import changes nothing, and files that are not ledgers are refused
with nothing written. Runs on SQLite and, with DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.notify import unit_of_work
from models import Account, AuditLog, Counter, Department
from tests.factories import make_filing
from tests.ledger_files import HEADERS, dense_bomb, ledger_bytes, read_rows, zip_bomb
from tests.wecom import say, sync_and_grant
from workflow.access import Viewer
from workflow.ledger.importing import run_import
from workflow.queries import registry
from workflow.uow import Actor

OFFICE = Actor("wangwu", "王五")
EVERYTHING = Viewer("wangwu", frozenset({"office"}), ())


@pytest.fixture(autouse=True)
def directory(runner):
    sync_and_grant(runner, [("wangwu", "office"), ("wujiu", "publicity")])


def line(name, external_id, *, number="", department="经济管理学院", leader="韩梅", admins="刘雷",
         platform="微信公众号", homepage="", purpose="", opened="") -> list[str]:
    """A ledger row in the columns of HEADERS."""
    return [platform, name, external_id, homepage, leader, admins, purpose, opened, department,
            number]


def import_file(app, data: bytes, name="台账.xlsx", dry_run=False):
    with unit_of_work(app, actor=OFFICE) as uow:
        return run_import(uow, data, name, dry_run=dry_run)


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def by_row(report) -> dict[int, object]:
    return {r.number: r for r in report.rows}


def register_by_chat(wecom, name="文法学院", external_id="wenfa2019"):
    """zhangsan files a 登记 of 文法学院; the head and the office approve it."""
    say(wecom, "zhangsan", f"登记\n平台：微信公众号\n账号名称：{name}\n账号ID：{external_id}\n"
                           "用途：学院新闻\n开通时间：2019-09", "确认")
    for userid, button in (("liming", "确认"), ("wangwu", "批准")):
        card = [m for m in wecom.inbox(userid) if m["msgtype"] == "template_card"][-1]
        key = next(b["key"] for b in card["body"]["button_list"] if b["text"] == button)
        wecom.as_user(userid).tap(card["task_id"], key)
        wecom.drain()


# --- the round trip -------------------------------------------------------------------------
def test_export_edit_import_round_trips(app, runner, wecom, session, tmp_path):
    register_by_chat(wecom)
    assert runner.invoke(args=["accounts", "seed-main"]).exit_code == 0
    exported = tmp_path / "备案台账.xlsx"
    result = runner.invoke(args=["accounts", "export", str(exported)])
    assert result.exit_code == 0 and "已导出 3 个账号" in result.output

    # The export is the registry as its page lists it, in the import's columns.
    rows = read_rows(exported.read_bytes())
    assert rows[0][:10] == HEADERS and rows[0][10:] == ["状态", "登记日期", "最近年检年度"]
    with unit_of_work(app) as uow:
        page = registry(uow.session, EVERYTHING, size=100)
        assert [(r[1], r[9]) for r in rows[1:]] == [(a.name, a.filing_no) for a in page.items]
    wenfa = next(r for r in rows if r[1] == "文法学院")
    assert wenfa[:10] == ["微信公众号", "文法学院", "wenfa2019", None, "李明", "张三", "学院新闻",
                          "2019-09", "文法学院", "WX-2026-0001"]

    # Re-imported as it is: every row unchanged.
    untouched = import_file(app, exported.read_bytes(), exported.name)
    assert untouched.counts == {"new": 0, "update": 0, "unchanged": 3, "error": 0}

    # The office edits it: new administrators and purpose for one, two new accounts.
    book = load_workbook(exported)
    sheet = book["备案台账"]
    cells = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == "文法学院")
    cells[5].value, cells[6].value = "张三、李四 13812345678", "学院新闻与通知"
    sheet.append(line("文法学院微博", "1234567890", platform="新浪微博", leader="李明",
                      admins="李四", homepage="https://weibo.com/1234567890", opened="2018",
                      department="文法学院", number="WB-2019-0003"))
    sheet.append(line("经管学院抖音", "@jingguan", platform="抖音", purpose="短视频"))
    edited = tmp_path / "台账-改.xlsx"
    book.save(edited)
    audits = count(session, AuditLog)

    dry = import_file(app, edited.read_bytes(), edited.name, dry_run=True)
    assert dry.counts == {"new": 2, "update": 1, "unchanged": 2, "error": 0}
    [update] = [r for r in dry.rows if r.outcome == "update"]
    assert update.changed == ["管理员", "用途"]
    assert count(session, Account) == 3 and count(session, AuditLog) == audits  # nothing written

    applied = import_file(app, edited.read_bytes(), edited.name)
    assert applied.applied and applied.counts == dry.counts
    session.expire_all()
    account = session.scalar(select(Account).where(Account.name == "文法学院"))
    assert [p["userid"] for p in account.details["admins"]] == ["zhangsan", "lisi"]
    assert account.details["admins"][1]["phone"] == "13812345678"
    assert account.admin_userids == ["zhangsan", "lisi"] and account.status == "active"
    weibo = session.scalar(select(Account).where(Account.external_id == "1234567890"))
    assert (weibo.status, weibo.filing_no, weibo.department_id) == ("active", "WB-2019-0003", 5)
    assert weibo.details["leader"]["userid"] == "liming" and weibo.details["opened"] == "2018"
    douyin = session.scalar(select(Account).where(Account.platform == "DY"))
    assert douyin.filing_no == "DY-2026-0004"  # the year's counter was at 3 (chat + seed-main)
    entries = session.scalars(select(AuditLog).where(AuditLog.action == "import")).all()
    assert len(entries) == 3 and {e.after["file"] for e in entries} == {"台账-改.xlsx"}
    assert {e.actor for e in entries} == {"wangwu"}
    change = next(e for e in entries if e.account_id == account.id)
    assert set(change.before) == {"admins", "purpose"}
    assert change.after["purpose"] == "学院新闻与通知"

    # The same file again, and a fresh export of the result: nothing changes.
    again = import_file(app, edited.read_bytes(), edited.name)
    assert again.counts == {"new": 0, "update": 0, "unchanged": 5, "error": 0}
    assert runner.invoke(args=["accounts", "export", str(exported)]).exit_code == 0
    assert import_file(app, exported.read_bytes()).changes == 0
    assert count(session, AuditLog) == audits + 3
    assert count(session, Account) == 5


def test_the_cli_prints_the_same_report(runner, session, tmp_path):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(ledger_bytes([
        ["微信公众号", "理工学院", "ligong2020", "", "高峰", "徐丽", "", "", "理工学院", ""],
        ["微信公众号", "坏行", "12", "", "高峰", "徐丽", "", "", "理工学院", ""]]))
    dry = runner.invoke(args=["accounts", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "第 2 行｜新增｜理工学院" in dry.output
    assert "第 3 行｜错误｜坏行" in dry.output and "不是有效的微信号" in dry.output
    assert "试导入（未写入）“ledger.xlsx”：共 2 行，新增 1，更新 0，无变化 0，错误 1。" \
        in dry.output
    assert count(session, Account) == 0
    done = runner.invoke(args=["accounts", "import", str(path)])
    assert "已导入“ledger.xlsx”：共 2 行，新增 1" in done.output
    assert "第 2 行｜新增｜理工学院（WX-2026-0001）" in done.output
    again = runner.invoke(args=["accounts", "import", str(path)])
    assert "第 2 行｜无变化｜理工学院（WX-2026-0001）" in again.output


def test_a_kept_number_is_never_given_again(app, wecom, session):
    report = import_file(app, ledger_bytes([
        ["微信公众号", "经管学院", "jingguan01", "", "韩梅", "刘雷", "", "", "经济管理学院",
         "wx-2026-0050"]]))  # typed in lower case: folded
    assert report.rows[0].filing_no == "WX-2026-0050"
    assert session.get(Counter, "filing_no:2026").value == 50
    register_by_chat(wecom)
    assert session.scalar(select(Account.filing_no).where(Account.name == "文法学院")) == \
        "WX-2026-0051"


def test_numbers_that_cannot_be_kept_get_the_next_one(app, session):
    report = import_file(app, ledger_bytes([
        line("甲", "jia00001", number="WX-2019-0001"),
        line("乙", "yi000001", number="WX-2019-0001"),
        line("丙", "bing0001", number="WB-2019-0002"),
        line("丁", "ding0001", number="第7号")]))
    rows = by_row(report)
    assert [rows[n].filing_no for n in (2, 3, 4, 5)] == [
        "WX-2019-0001", "WX-2026-0001", "WX-2026-0002", "WX-2026-0003"]
    assert "已被“甲”使用" in rows[3].notes[0]
    assert "不符合备案编号的格式" in rows[4].notes[0] and "不符合备案编号的格式" in rows[5].notes[0]


# --- every error, named ---------------------------------------------------------------------
def test_each_error_is_named_and_only_valid_rows_are_written(app, session):
    two = [Department(id=90, name="继续教育学院", parent_id=1),
           Department(id=91, name="继续教育学院", parent_id=8)]
    session.add_all(two)
    session.commit()
    import_file(app, ledger_bytes([
        line("甲号", "jiahao01", number="WX-2019-0001"),
        line("乙号", "yihao001", number="WX-2019-0002")]))
    make_filing(app, fields={"platform": "WX", "name": "审核中的号", "external_id": "pending01"})
    accounts, audits = count(session, Account), count(session, AuditLog)

    report = import_file(app, ledger_bytes([
        ["微信公众号", "好号", "haohao01", "", "李明", "张三", "", "", "文法学院", ""],        # 2
        ["微信公众号", "一", "yi00001a", "", "李明", "张三", "", "", "火星学院", ""],          # 3
        ["脸书", "二", "er00001a", "", "李明", "张三", "", "", "文法学院", ""],               # 4
        ["微信公众号", "三", "123", "", "李明", "张三", "", "", "文法学院", ""],              # 5
        ["微信公众号", "四", "si00001a", "", "李明", "张伟", "", "", "文法学院", ""],          # 6
        ["微信公众号", "五", "wu00001a", "", "无名氏", "张三", "", "", "文法学院", ""],        # 7
        ["微信公众号", "好号重复", "haohao01", "", "李明", "张三", "", "", "文法学院", ""],     # 8
        ["微信公众号", "六", "jiahao01", "", "韩梅", "刘雷", "", "", "经济管理学院",
         "WX-2019-0002"],                                                                      # 9
        ["微信公众号", "七", "pending01", "", "李明", "张三", "", "", "文法学院", ""],         # 10
        ["微信公众号", "八", "ba00001a", "", "", "张三", "", "", "文法学院", ""],             # 11
        ["微信公众号", "九", "", "", "李明", "张三", "", "", "文法学院", ""],                 # 12
        ["微信公众号", "十", "shi0001a", "", "李明", "张三", "", "", "继续教育学院", ""],     # 13
        ["微信公众号", "十一", "shiyi001", "", "李明", "张三", "", "2019-13", "文法学院", ""],  # 14
        ["微信公众号", "", "shier001", "", "李明", "张三", "", "", "文法学院", ""],           # 15
        ["微信公众号", "十三", "shisan01", "ftp://x", "李明", "张三 123", "", "", "文法学院",
         ""],                                                                                  # 16
    ]))
    rows = by_row(report)
    expected = {
        3: "部门“火星学院”不在通讯录中",
        4: "平台：平台“脸书”不在列表中",
        5: "账号ID：“123”不是有效的微信号",
        6: "管理员：通讯录中有 2 位“张伟”（zhangwei：",
        7: "负责人：通讯录中没有找到“无名氏”",
        8: "与第 2 行重复",
        9: "该账号ID已在台账中登记为“甲号”（WX-2019-0001），"
           "与本行的备案编号 WX-2019-0002（“乙号”）",
        10: "该账号的登记（审核中的号，#1）正在审核中",
        11: "负责人未填写（必填）",
        12: "账号ID未填写（必填）",
        13: "通讯录中有 2 个名为“继续教育学院”的部门，请改填部门ID（90、91）",
        14: "开通时间：“2019-13”不是有效的日期",
        15: "账号名称未填写（必填）",
    }
    for number, words in expected.items():
        assert rows[number].outcome == "error", number
        assert any(words in e for e in rows[number].errors), (number, rows[number].errors)
    assert [e.split("。")[0] for e in rows[16].errors] == [
        "主页链接：链接“ftp://x”无效", "管理员：通讯录中没有找到“张三 123”"]
    assert rows[2].outcome == "new"
    assert report.counts == {"new": 1, "update": 0, "unchanged": 0, "error": 14}
    assert count(session, Account) == accounts + 1  # only 好号
    assert count(session, AuditLog) == audits + 1
    assert session.scalar(select(Account.name).where(Account.external_id == "haohao01")) == "好号"


def test_a_200_row_ledger_with_10_bad_rows(app, session):
    departments = ["文法学院", "经济管理学院", "理工学院", "开放教育学院"]
    leaders = {"文法学院": "李明", "经济管理学院": "韩梅", "理工学院": "高峰",
               "开放教育学院": "钱进"}
    rows = []
    for n in range(200):
        department = departments[n % 4]
        rows.append(["微信公众号", f"账号{n:03d}", f"acct{n:05d}", "", leaders[department],
                     "张三、李四", "", "2020-01", department, ""])
    bad = {12: (8, "火星学院"), 25: (0, "脸书"), 38: (2, "1"), 51: (4, ""), 64: (5, "张伟"),
           77: (5, "查无此人"), 90: (2, "acct00003"), 103: (8, ""), 116: (7, "二〇二〇"),
           129: (3, "not a link")}
    for index, (column, value) in bad.items():
        rows[index][column] = value
    first = import_file(app, ledger_bytes(rows))
    errors = {r.number - 2: r.errors for r in first.rows if r.outcome == "error"}
    assert sorted(errors) == sorted(bad)
    assert "部门“火星学院”不在通讯录中" in errors[12][0]
    assert "平台“脸书”不在列表中" in errors[25][0]
    assert "不是有效的微信号" in errors[38][0]
    assert "负责人未填写" in errors[51][0]
    assert "通讯录中有 2 位“张伟”" in errors[64][0]
    assert "通讯录中没有找到“查无此人”" in errors[77][0]
    assert "与第 5 行重复" in errors[90][0]
    assert "部门未填写" in errors[103][0]
    assert "开通时间" in errors[116][0]
    assert "主页链接" in errors[129][0]
    assert count(session, Account) == 190
    second = import_file(app, ledger_bytes(rows))
    assert second.changes == 0 and second.count("unchanged") == 190
    assert count(session, AuditLog, AuditLog.action == "import") == 190


def test_a_formula_is_stored_as_text_and_exported_escaped(app, runner, session, tmp_path):
    formula = '=HYPERLINK("http://evil.example","点我")'
    report = import_file(app, ledger_bytes([
        ["微信公众号", formula, "formula01", "", "李明", "张三", "+1 用途", "", "文法学院", ""]]))
    assert report.count("new") == 1
    assert session.scalar(select(Account.name)) == formula
    path = tmp_path / "out.xlsx"
    assert runner.invoke(args=["accounts", "export", str(path)]).exit_code == 0
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml  # no formula anywhere
    cell = load_workbook(path)["备案台账"]["B2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (formula, "s", True)
    assert load_workbook(path)["备案台账"]["G2"].quotePrefix
    assert import_file(app, path.read_bytes()).changes == 0  # and it round-trips


# --- files refused whole --------------------------------------------------------------------
def truncated() -> bytes:
    data = ledger_bytes([line("甲", "jia00001")])
    return data[:len(data) // 2]


def docx_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


def broken_sheet() -> bytes:
    """A real .xlsx whose sheet XML was cut off."""
    source = zipfile.ZipFile(io.BytesIO(ledger_bytes([["微信公众号"] * 10] * 50)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data[:len(data) // 2]
            archive.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize(("data", "words"), [
    (b"", "文件是空的"),
    (b"platform,name\nWX,abc\n", "文件不是 Excel 工作簿（.xlsx）"),
    ("平台,账号名称\n".encode("gbk"), "文件不是 Excel 工作簿（.xlsx）"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "旧版 Excel（.xls）"),
    (truncated(), "文件不是 Excel 工作簿（.xlsx）"),
    (docx_zip(), "文件不是 Excel 工作簿（.xlsx）"),
    (broken_sheet(), "文件已损坏或不完整"),
    (bytes(5 * 2**20 + 1), "文件太大（5.0 MB），台账文件不能超过 5 MB"),
    (ledger_bytes([]), "表头下面没有数据行"),
    (ledger_bytes([["x"]], headers=["备注", "说明"]), "没有找到表头"),
    (ledger_bytes([["微信公众号", "甲", "jia00001"]], headers=["平台", "账号名称", "账号ID"]),
     "缺少必填的列：负责人、管理员、部门"),
], ids=["empty", "csv", "gbk-csv", "xls", "truncated", "docx", "broken-sheet", "too-big",
        "no-rows", "no-header", "missing-columns"])
def test_a_file_that_is_not_a_ledger_is_refused_and_nothing_written(app, session, data, words):
    report = import_file(app, data, "x.xlsx")
    assert report.error and words in report.error, report.error
    assert report.rows == [] and not report.applied
    assert count(session, Account) == 0
    assert count(session, AuditLog, AuditLog.action == "import") == 0


def test_zip_bombs_are_refused_before_openpyxl_opens_them(app, session, monkeypatch):
    from workflow.ledger import upload

    opened = []
    monkeypatch.setattr(upload, "load_workbook", lambda *a, **k: opened.append(1))
    many = zip_bomb()  # 250 entries of 1 MB of zeros: 250 MB declared, ~250 KB on disk
    dense = dense_bomb()  # one 16 MB entry at ~1000:1
    assert len(many) < 5 * 2**20 and len(dense) < 5 * 2**20
    for data in (many, dense):
        report = import_file(app, data)
        assert "解压后过大" in report.error and "已拒绝导入" in report.error
    assert opened == [] and count(session, Account) == 0


def test_more_rows_than_the_limit_are_refused(app, session, monkeypatch):
    from workflow.ledger import upload

    assert upload.MAX_ROWS == 20_000  # the limit; 100 here keeps the test quick
    monkeypatch.setattr(upload, "MAX_ROWS", 100)
    rows = [["微信公众号", f"号{n}", f"acct{n:06d}", "", "李明", "张三", "", "", "文法学院", ""]
            for n in range(101)]
    report = import_file(app, ledger_bytes(rows), dry_run=True)
    assert "台账超过 100 行（不含表头），请分成几个文件分别导入" in report.error
    assert import_file(app, ledger_bytes(rows[:100])).count("new") == 100
    assert count(session, Account) == 100


# --- lenient headers ------------------------------------------------------------------------
def test_headers_are_matched_leniently(app, session):
    data = ledger_bytes(
        [["公众号", "文法学院", "wenfa2019", "李明", "张三", "文法学院", "WX-2019-0001", "旧台账"]],
        headers=[" 平 台 ", "账号名称：", "微信号/公众号ID", "负责人（姓名）", "管理员*",
                 "所属部门", "备案号", "备注"],
        title_rows=[["西安广播电视大学官方账号登记台账"], []])
    report = import_file(app, data)
    assert report.counts["new"] == 1, report.rows[0].errors
    assert report.unknown == ["备注"]
    account = session.scalar(select(Account))
    assert (account.platform, account.external_id, account.filing_no) == (
        "WX", "wenfa2019", "WX-2019-0001")
    assert report.rows[0].number == 4  # rows are numbered as Excel shows them


@pytest.mark.parametrize("header", ["账号ID", "账号ＩＤ", "微信号", "公众号ID", "账号 id", "ID："])
def test_the_account_id_column_goes_by_many_names(app, session, header):
    headers = [header if h == "账号ID" else h for h in HEADERS]
    report = import_file(app, ledger_bytes(
        [["微信公众号", "文法学院", "wenfa2019", "", "李明", "张三", "", "", "文法学院", ""]],
        headers=headers), dry_run=True)
    assert report.counts["new"] == 1, (report.error, report.rows)


def test_a_pending_account_without_an_id_round_trips(app, runner, session, tmp_path):
    account = Account(platform="DY", name="申请中的抖音", external_id=None, department_id=5,
                      status="pending", filing_no="DY-2026-0001",
                      details={"leader": {"userid": "liming", "name": "李明", "phone": None},
                               "admins": [{"userid": "zhangsan", "name": "张三", "phone": None}]},
                      admin_userids=["zhangsan"])
    session.add(account)
    session.commit()
    path = tmp_path / "x.xlsx"
    assert runner.invoke(args=["accounts", "export", str(path)]).exit_code == 0
    report = import_file(app, path.read_bytes())
    assert report.counts == {"new": 0, "update": 0, "unchanged": 1, "error": 0}
    session.expire_all()
    assert session.scalar(select(Account.status)) == "pending"  # an import never changes status


def test_a_password_in_a_cell_is_refused_and_never_shown(app, session):
    report = import_file(app, ledger_bytes([
        line("密码：abc12345", "mima0001", department="文法学院", leader="李明", admins="张三"),
        line("文法学院", "wenfa2019", department="文法学院", leader="李明", admins="张三",
             purpose="账号 密码:xyz98765")]))
    assert [r.outcome for r in report.rows] == ["error", "error"]
    assert all("第十三条" in r.errors[0] for r in report.rows)
    assert "abc12345" not in report.text() and "xyz98765" not in report.text()
    assert count(session, Account) == 0
    assert count(session, AuditLog, AuditLog.action == "import") == 0


def test_updating_a_closed_account_keeps_it_closed(app, session):
    session.add(Account(platform="WX", name="旧号", external_id="jiuhao01", department_id=5,
                        status="closed", filing_no="WX-2020-0001", details={}))
    session.commit()
    report = import_file(app, ledger_bytes([
        line("旧号改名", "jiuhao01", department="文法学院", leader="李明", admins="张三",
             number="WX-2020-0001")]))
    [row] = report.rows
    assert row.outcome == "update" and "导入不改变账号状态" in row.notes[0]
    session.expire_all()
    account = session.scalar(select(Account))
    assert (account.name, account.status) == ("旧号改名", "closed")
