"""Ledger workbooks for the import tests, built with openpyxl as an office would save them."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook, load_workbook

HEADERS = ["平台", "账号名称", "账号ID", "主页链接", "负责人", "管理员", "用途", "开通时间", "部门",
           "备案编号"]


def ledger_bytes(rows, headers=HEADERS, title_rows=(), sheet="备案台账") -> bytes:
    """An .xlsx whose sheet has `title_rows`, then `headers`, then `rows`."""
    book = Workbook()
    ws = book.active
    ws.title = sheet
    for row in title_rows:
        ws.append(row)
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_rows(data_or_path, sheet=None) -> list[list]:
    """Every row of a workbook's (first) sheet as values."""
    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    book = load_workbook(source)
    ws = book[sheet] if sheet else book.worksheets[0]
    return [list(row) for row in ws.iter_rows(values_only=True)]


def zip_bomb(entries: int = 250, size: int = 2**20) -> bytes:
    """A zip that looks like an .xlsx and declares `entries` × `size` bytes of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        zeros = bytes(size)
        for index in range(entries):
            archive.writestr(f"xl/worksheets/sheet{index}.xml", zeros)
    return out.getvalue()


def dense_bomb(size: int = 16 * 2**20) -> bytes:
    """An .xlsx-looking zip with one sheet of `size` zero bytes (ratio ~1000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            chunk = bytes(2**20)
            for _ in range(size // len(chunk)):
                sheet.write(chunk)
    return out.getvalue()
