"""Reporting: the campaign's progress per department, and the CLI's one-line summary of a run."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from bot.reminders.common import DONE_STATUSES
from models import Account, Department, Filing, ZeroReport


def progress(session, year: int) -> dict:
    """Completion per department: done / pending / missing, and the accounts still missing."""
    departments = dict(session.execute(select(Department.id, Department.name)).all())
    statuses = defaultdict(dict)
    for account_id, fields, status in session.execute(select(
            Filing.account_id, Filing.fields, Filing.status).where(Filing.kind == "annual")).all():
        if fields.get("year") == year and status in DONE_STATUSES:
            statuses[account_id]["done" if status in ("approved", "done") else "pending"] = True
    rows = defaultdict(lambda: {"done": 0, "pending": 0, "missing": 0})
    missing = []
    for account in session.execute(select(Account.id, Account.name, Account.filing_no,
                                          Account.department_id, Account.last_review_year)
                                   .where(Account.status == "active")).all():
        state = statuses.get(account.id, {})
        if state.get("done") or (account.last_review_year or 0) >= year:
            rows[account.department_id]["done"] += 1
        elif state.get("pending"):
            rows[account.department_id]["pending"] += 1
        else:
            rows[account.department_id]["missing"] += 1
            missing.append(account)
    zero = set(session.scalars(select(ZeroReport.department_id).where(ZeroReport.year == year)))
    table = sorted(((departments.get(d, str(d)), r) for d, r in rows.items()),
                   key=lambda item: (-item[1]["missing"], item[0]))
    return {"table": table, "missing": missing,
            "zero": sorted(departments.get(d, str(d)) for d in zero),
            "totals": {k: sum(r[k] for _, r in table) for k in ("done", "pending", "missing")}}


NAMES = {"annual": "年检提醒", "zero": "零报告通知", "digest": "周报", "final": "最终报告",
         "nudge": "催办"}


def describe(report: dict) -> str:
    """One line for the CLI: what was queued (or would be, on a dry run)."""
    parts = [f"{NAMES.get(k, k)} {v} 项" for k, v in report.items() if k in NAMES and v]
    head = "（试运行，未发送）" if report.get("dry_run") else ""
    return (head + ("；".join(parts) or "今天没有需要发送的提醒")
            + f"；消息 {report.get('messages', 0)} 条")
