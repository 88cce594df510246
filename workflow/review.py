"""The annual review (art. 7) as the registry sees it: which accounts are reviewed for a year,
and the campaign's progress per department (the office's digest, the review page)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from models import Account, AccountStatus, Department, Filing, FilingStatus, ZeroReport

S = FilingStatus
# A 年检 in these statuses stops the campaign for its account: approved, on its way, or sent
# back for rectification with a deadline of its own (限期整改).
COUNTS_AS_REVIEWED = (S.AWAITING_DEPT, S.AWAITING_OFFICE, S.APPROVED, S.DONE, S.RETURNED)


def reviewed_accounts(session, year: int) -> set[int]:
    """Accounts with a 年检 for `year` approved or on its way."""
    rows = session.execute(select(Filing.account_id, Filing.fields).where(
        Filing.kind == "annual", Filing.status.in_(COUNTS_AS_REVIEWED))).all()
    reviewed = {account_id for account_id, fields in rows if fields.get("year") == year}
    reviewed |= set(session.scalars(select(Account.id).where(Account.last_review_year >= year)))
    return reviewed


def review_progress(session, year: int) -> dict:
    """Completion per department: done / pending / missing, and the accounts still missing."""
    departments = dict(session.execute(select(Department.id, Department.name)).all())
    statuses = defaultdict(dict)
    for account_id, fields, status in session.execute(select(
            Filing.account_id, Filing.fields, Filing.status).where(Filing.kind == "annual")).all():
        if fields.get("year") == year and status in COUNTS_AS_REVIEWED:
            done = status in (S.APPROVED, S.DONE)
            statuses[account_id]["done" if done else "pending"] = True
    rows = defaultdict(lambda: {"done": 0, "pending": 0, "missing": 0})
    missing = []
    for account in session.execute(select(Account.id, Account.name, Account.filing_no,
                                          Account.department_id, Account.last_review_year)
                                   .where(Account.status == AccountStatus.ACTIVE)).all():
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
