"""The annual review (art. 7) as the registry sees it: which accounts are reviewed for a year,
and the campaign's progress per department (the office's digest, the review page).

Everything is counted in SQL on the filing's `year` column (models.filing.filing_columns): no
query reads every account or every 年检 into Python to sort them."""

from __future__ import annotations

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import aliased

from models import Account, AccountStatus, Decision, Department, Filing, FilingStatus, ZeroReport

S = FilingStatus
# A 年检 in these statuses stops the campaign for its account: on its way, or approved.
UNDER_WAY = (S.AWAITING_DEPT, S.AWAITING_OFFICE)
PASSED = (S.APPROVED, S.DONE)
# A 年检 sent back is handled by its own deadline only when the office ordered it rectified
# (限期整改, stage:choice below); one sent back by the department's head (退回) or withdrawn
# leaves the account missing until a new one is filed.
RECTIFYING = frozenset({("office", "fix")})


def counting_annuals(year: int):
    """SQL condition: the 年检 for `year` that stop the campaign for their account — approved,
    on their way, or sent back for 限期整改 (their latest decision is in RECTIFYING)."""
    last = aliased(Decision)
    latest = select(func.max(last.id)).where(last.filing_id == Filing.id) \
        .correlate(Filing).scalar_subquery()
    rectifying = select(Decision.id).where(
        Decision.id == latest,
        or_(*(and_(Decision.stage == stage, Decision.outcome == outcome)
              for stage, outcome in sorted(RECTIFYING)))).correlate(Filing).exists()
    return and_(Filing.kind == "annual", Filing.year == year,
                or_(Filing.status.in_((*UNDER_WAY, *PASSED)),
                    and_(Filing.status == S.RETURNED, rectifying)))


def states_query(year: int):
    """SQL rows (account_id, done): each account with a counting 年检 for `year`; done is 1
    when one passed."""
    return (select(Filing.account_id,
                   func.max(case((Filing.status.in_(PASSED), 1), else_=0)).label("done"))
            .where(counting_annuals(year)).group_by(Filing.account_id))


def annual_states(session, year: int) -> dict[int, str]:
    """The accounts with a 年检 for `year` that stops the campaign: "done" (合格) or "pending"
    (waiting for a decision, or rectifying by the deadline the office gave)."""
    return {row.account_id: "done" if row.done else "pending"
            for row in session.execute(states_query(year))}


def reviewed_accounts(session, year: int) -> set[int]:
    """Accounts with a 年检 for `year` approved or on its way (or rectifying)."""
    reviewed = set(annual_states(session, year))
    reviewed |= set(session.scalars(select(Account.id).where(Account.last_review_year >= year)))
    return reviewed


def account_state(year: int):
    """(the states subquery, SQL expression "done" | "pending" | "missing") for an Account
    outer-joined to the subquery on its id."""
    states = states_query(year).subquery()
    state = case((or_(states.c.done == 1, func.coalesce(Account.last_review_year, 0) >= year),
                  "done"),
                 (states.c.account_id.is_not(None), "pending"), else_="missing")
    return states, state


def department_counts(session, year: int) -> dict[int | None, dict[str, int]]:
    """Active accounts per department: {"done", "pending", "missing"} counts for `year`.

    Two grouped reads, neither joining every account to the 年检: the active accounts per
    department and how many were recorded as reviewed (`last_review_year`: an index-only
    read of ix_account_status_department_review), then, from the 年检 for `year` that count
    (a few per hundred accounts, by ix_filing_kind_year), the accounts not recorded as
    reviewed that have one, and those among them with one passed."""
    reviewed = func.coalesce(Account.last_review_year, 0) >= year
    rows: dict = {}
    for department_id, active, done in session.execute(
            select(Account.department_id, func.count(),
                   func.sum(case((reviewed, 1), else_=0)))
            .where(Account.status == AccountStatus.ACTIVE)
            .group_by(Account.department_id)):
        rows[department_id] = {"done": int(done or 0), "pending": 0,
                               "missing": active - int(done or 0)}
    for department_id, passed, counted in session.execute(
            select(Account.department_id,
                   func.count(distinct(case((Filing.status.in_(PASSED), Account.id)))),
                   func.count(distinct(Account.id)))
            .select_from(Filing).join(Account, Account.id == Filing.account_id)
            .where(counting_annuals(year), Account.status == AccountStatus.ACTIVE, ~reviewed)
            .group_by(Account.department_id)):
        row = rows.setdefault(department_id, {"done": 0, "pending": 0, "missing": 0})
        row["done"] += passed
        row["pending"] += counted - passed
        row["missing"] -= counted
    return rows


def missing_accounts(session, year: int):
    """SQL for the active accounts with nothing for `year`, by id: (id, name, filing_no,
    department_id, last_review_year)."""
    states, state = account_state(year)
    return (select(Account.id, Account.name, Account.filing_no, Account.department_id,
                   Account.last_review_year)
            .outerjoin(states, states.c.account_id == Account.id)
            .where(Account.status == AccountStatus.ACTIVE, state == "missing")
            .order_by(Account.id))


def review_progress(session, year: int, *, shown: int | None = None) -> dict:
    """Completion per department: done / pending / missing, and the accounts still missing —
    only the first `shown` of them (by id) when given, as the office's digest lists them (tens
    of thousands in a province); `totals["missing"]` counts them all either way."""
    counts = department_counts(session, year)
    zero = set(session.scalars(select(ZeroReport.department_id).where(ZeroReport.year == year)))
    wanted = {d for d in (*counts, *zero) if d is not None}
    departments = dict(session.execute(select(Department.id, Department.name)
                                       .where(Department.id.in_(wanted))).all()) if wanted else {}
    table = sorted(((departments.get(d, str(d)), r) for d, r in counts.items()),
                   key=lambda item: (-item[1]["missing"], item[0]))
    missing = session.execute(missing_accounts(session, year).limit(shown)).all()
    return {"table": table, "missing": missing,
            "zero": sorted(departments.get(d, str(d)) for d in zero),
            "totals": {k: sum(r[k] for _, r in table) for k in ("done", "pending", "missing")}}
