"""The annual review (art. 7) as the registry sees it: which accounts are reviewed for a year,
and the campaign's progress per department (the office's digest, the review page)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from models import Account, AccountStatus, Decision, Department, Filing, FilingStatus, ZeroReport

S = FilingStatus
# A 年检 in these statuses stops the campaign for its account: on its way, or approved.
UNDER_WAY = (S.AWAITING_DEPT, S.AWAITING_OFFICE)
PASSED = (S.APPROVED, S.DONE)
# A 年检 sent back is handled by its own deadline only when the office ordered it rectified
# (限期整改, stage:choice below); one sent back by the department's head (退回) or withdrawn
# leaves the account missing until a new one is filed.
RECTIFYING = frozenset({("office", "fix")})


def annual_states(session, year: int) -> dict[int, str]:
    """The accounts with a 年检 for `year` that stops the campaign: "done" (合格) or "pending"
    (waiting for a decision, or rectifying by the deadline the office gave)."""
    rows = [r for r in session.execute(select(Filing.id, Filing.account_id, Filing.fields,
                                              Filing.status).where(
        Filing.kind == "annual", Filing.status.in_((*UNDER_WAY, *PASSED, S.RETURNED)))).all()
        if r.fields.get("year") == year]
    returned = [r.id for r in rows if r.status == S.RETURNED]
    last = {}  # filing id → (stage, outcome) of its latest decision
    if returned:
        for filing_id, stage, outcome in session.execute(
                select(Decision.filing_id, Decision.stage, Decision.outcome)
                .where(Decision.filing_id.in_(returned)).order_by(Decision.id)).all():
            last[filing_id] = (stage, outcome)
    states = {}
    for r in rows:
        if r.status in PASSED:
            states[r.account_id] = "done"
        elif r.status in UNDER_WAY or last.get(r.id) in RECTIFYING:
            states.setdefault(r.account_id, "pending")
    return states


def reviewed_accounts(session, year: int) -> set[int]:
    """Accounts with a 年检 for `year` approved or on its way (or rectifying)."""
    reviewed = set(annual_states(session, year))
    reviewed |= set(session.scalars(select(Account.id).where(Account.last_review_year >= year)))
    return reviewed


def review_progress(session, year: int) -> dict:
    """Completion per department: done / pending / missing, and the accounts still missing."""
    departments = dict(session.execute(select(Department.id, Department.name)).all())
    states = annual_states(session, year)
    rows = defaultdict(lambda: {"done": 0, "pending": 0, "missing": 0})
    missing = []
    for account in session.execute(select(Account.id, Account.name, Account.filing_no,
                                          Account.department_id, Account.last_review_year)
                                   .where(Account.status == AccountStatus.ACTIVE)).all():
        state = states.get(account.id)
        if state == "done" or (account.last_review_year or 0) >= year:
            rows[account.department_id]["done"] += 1
        elif state == "pending":
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
