"""The words of the workbooks and forms (templates/ledger/_names.j2) and download file names."""

from __future__ import annotations

from datetime import date
from functools import cache
from urllib.parse import quote

from bot.render import environment


@cache
def texts():
    """The template module of templates/ledger/_names.j2: .columns, .sheets, .files, .forms,
    .printed (dicts of the Chinese words)."""
    return environment().get_template("ledger/_names.j2").module


@cache
def labels():
    """The template module of templates/messages/_labels.txt.j2: .statuses, .account_statuses,
    .actions (the names every listing shows)."""
    return environment().get_template("messages/_labels.txt.j2").module


def download_name(stem: str, today: date, suffix: str = "xlsx", *extra: str) -> str:
    """A download's file name with the date: 备案台账-2026-12-04.xlsx (`stem` a key of
    texts().files, or the words themselves)."""
    words = texts().files.get(stem, stem)
    return "-".join([words, *extra, today.isoformat()]) + f".{suffix}"


def content_disposition(filename: str) -> str:
    """The Content-Disposition value of an attachment named `filename`: an ASCII fallback and
    the UTF-8 name in RFC 5987's `filename*` (RFC 6266 §4.3), for every browser."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_"
                       for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
