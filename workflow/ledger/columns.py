"""The ledger's columns: the registry as the export writes it and the import reads it back.

A column that is a field of the 登记 form (附表1) has that field's label as its header, so the
workbook, the chat form and the printed form say the same words. The import matches headers
leniently (`header_key`): spaces and full-width characters folded, a trailing colon or `*` and a
bracketed note dropped, and the names offices use for the same column (微信号, 公众号ID … for
账号ID) accepted."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from workflow.forms.catalog import REGISTER
from workflow.forms.spec import Field
from workflow.ledger.names import texts


@dataclass(frozen=True)
class Column:
    """One column of the ledger: the key it is read into, its header, width, form field."""

    key: str  # a REGISTER field name, or department / filing_no / status / created / reviewed
    header: str
    width: int
    field: Field | None = None
    imported: bool = True  # False: shown in the export, ignored by the import
    required: bool = False  # the import refuses a file without this column


WIDTHS = {"platform": 12, "name": 24, "external_id": 24, "homepage": 30, "leader": 18,
          "admins": 24, "purpose": 30, "opened": 12}


def registry_columns() -> tuple[Column, ...]:
    """The ledger's columns in order: the 登记 form's fields, then the registry's own."""
    words = texts().columns
    form = tuple(Column(f.name, f.label, WIDTHS.get(f.name, 16), f, required=not f.optional)
                 for f in REGISTER.fields)
    return form + (
        Column("department", words["department"], 18, required=True),
        Column("filing_no", words["filing_no"], 16),
        Column("status", words["status"], 10, imported=False),
        Column("created", words["created"], 12, imported=False),
        Column("reviewed", words["reviewed"], 12, imported=False),
    )


# Other names offices give the same column (after header_key folding). The export's own
# headers always match.
ALIASES = {
    "platform": ("平台类型", "账号平台", "平台名称", "类型", "platform"),
    "name": ("名称", "账号名", "公众号名称", "微博名称", "官方账号名称", "账号昵称", "昵称",
             "name"),
    "external_id": ("id", "账号id", "微信号", "公众号id", "公众号账号", "微博uid", "微博id", "uid",
                    "账户id", "平台账号", "微信号/公众号id"),
    "homepage": ("链接", "主页", "主页地址", "网址", "url", "主页url", "账号链接"),
    "leader": ("责任人", "部门负责人", "主要负责人", "负责人姓名"),
    "admins": ("管理人员", "运营者", "运营人员", "管理员姓名", "账号管理员"),
    "purpose": ("主要用途", "账号用途", "简介", "功能定位"),
    "opened": ("开通日期", "注册时间", "注册日期", "创建时间"),
    "department": ("责任部门", "所属部门", "主办部门", "单位", "所属单位", "部门名称"),
    "filing_no": ("备案号", "编号"),
    "status": ("账号状态",),
    "created": ("备案日期", "登记时间"),
    "reviewed": ("年检年度", "最近年检"),
}

_BRACKETED = re.compile(r"[(\[【（].*?[)\]】）]")
_DROP = re.compile(r"[\s:：*＊]+")


def header_key(text) -> str:
    """A header folded for matching: full-width to ASCII, no spaces, colons, `*` or bracketed
    notes ("负责人（姓名）："), any case."""
    folded = unicodedata.normalize("NFKC", str(text or ""))
    folded = _BRACKETED.sub("", folded)
    return _DROP.sub("", folded).casefold()


def column_of(text, lookup: dict[str, str]) -> str | None:
    """The column key a header names, or None: the whole header, else the first of its
    slash-separated names that is known ("微信号/公众号ID")."""
    key = header_key(text)
    if key in lookup:
        return lookup[key]
    return next((lookup[part] for part in re.split(r"[/、|]", key) if part in lookup), None)


def header_lookup() -> dict[str, str]:
    """Folded header → column key, for every header and alias."""
    lookup = {}
    for column in registry_columns():
        lookup[header_key(column.header)] = column.key
        for alias in ALIASES.get(column.key, ()):
            lookup.setdefault(header_key(alias), column.key)
    return lookup
