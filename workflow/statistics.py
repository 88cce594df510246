"""Figures for the office's pages (issue #11): the annual review per department with ids for
drill-down, and the yearly assessment (art. 16) per department.

Years are Beijing calendar years. A 年检 for year Y is on time when submitted by `review_due`
(the last day of the review window in Y+1, from the settings), late after it, missing without
one; other counts are of what happened during year Y."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from models import Account, AccountStatus, Decision, Department, Filing, FilingStatus, ZeroReport
from workflow.kinds import kind_of
from workflow.review import PASSED, UNDER_WAY, annual_states

BEIJING = ZoneInfo("Asia/Shanghai")
NOT_ROOT = func.coalesce(Department.parent_id, -1) != 0  # the school itself is no department


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of a Beijing calendar year, as aware datetimes."""
    return datetime(year, 1, 1, tzinfo=BEIJING), datetime(year + 1, 1, 1, tzinfo=BEIJING)


@dataclass
class ReviewRow:
    """One department in the annual review: its active accounts and how far they are."""

    department_id: int
    name: str
    accounts: int = 0
    reviewed: int = 0  # approved (or recorded as reviewed)
    pending: int = 0  # a 年检 on its way, or sent back for 限期整改
    missing: int = 0
    zero_report: bool = False  # 零报告: answered "no accounts"

    @property
    def never_answered(self) -> bool:
        """Nothing came from the department: no 年检 at all and no 零报告."""
        return not self.zero_report and self.reviewed == 0 and self.pending == 0


def review_overview(session, year: int) -> list[ReviewRow]:
    """Every department (but the school root) with its review figures for `year`, the ones
    with most missing first."""
    states = annual_states(session, year)  # account → "done" | "pending"
    rows = {d.id: ReviewRow(d.id, d.name) for d in session.scalars(
        select(Department).where(NOT_ROOT).order_by(Department.id))}
    for account in session.execute(select(Account.id, Account.department_id,
                                          Account.last_review_year)
                                   .where(Account.status == AccountStatus.ACTIVE)):
        row = rows.setdefault(account.department_id,
                              ReviewRow(account.department_id, str(account.department_id)))
        row.accounts += 1
        state = states.get(account.id)
        if state == "done" or (account.last_review_year or 0) >= year:
            row.reviewed += 1
        elif state == "pending":
            row.pending += 1
        else:
            row.missing += 1
    for department_id in session.scalars(select(ZeroReport.department_id)
                                         .where(ZeroReport.year == year)):
        if department_id in rows:
            rows[department_id].zero_report = True
    return sorted(rows.values(), key=lambda r: (-r.missing, -r.accounts, r.department_id))


@dataclass
class AssessmentRow:
    """One department's figures for the yearly assessment (art. 16)."""

    department_id: int
    name: str
    accounts: int = 0  # active at the time of reading
    filings: int = 0  # submitted during the year (every kind)
    reviews_on_time: int = 0
    reviews_late: int = 0
    reviews_missing: int = 0
    rectify: int = 0  # 限期整改 outcomes
    failed: int = 0  # 不合格 outcomes
    ordered_closures: int = 0
    impersonation_reports: int = 0
    decide_hours: list[float] = field(default_factory=list)

    @property
    def median_hours(self) -> float | None:
        """Median time from a filing reaching a stage to its decision, in hours."""
        return round(median(self.decide_hours), 1) if self.decide_hours else None


def assessment(session, year: int, review_due: date) -> list[AssessmentRow]:
    """Per department, by id: the figures of `year` (see the module docstring)."""
    start, end = year_bounds(year)
    due_end = datetime.combine(review_due + timedelta(days=1), datetime.min.time(), BEIJING)
    rows = {d.id: AssessmentRow(d.id, d.name) for d in session.scalars(
        select(Department).where(NOT_ROOT).order_by(Department.id))}

    def row(department_id) -> AssessmentRow:
        return rows.setdefault(department_id, AssessmentRow(department_id or 0,
                                                            str(department_id or "—")))

    active = session.execute(select(Account.id, Account.department_id)
                             .where(Account.status == AccountStatus.ACTIVE)).all()
    counted = annual_states(session, year)  # the 年检 that count (workflow.review)
    reviewed: dict[int, datetime] = {}  # account → its earliest such 年检's submission
    filings = session.scalars(select(Filing)).all()
    for f in filings:
        if start <= f.created_at < end:
            if f.status != FilingStatus.ORDERED and "decision" not in f.fields:
                row(f.department_id).filings += 1
            if f.kind == "report":
                row(f.department_id).impersonation_reports += 1
            if f.kind == "close" and "decision" in f.fields:
                row(f.department_id).ordered_closures += 1
        if f.kind == "annual" and f.fields.get("year") == year and f.account_id in counted \
                and f.status in (*UNDER_WAY, *PASSED, FilingStatus.RETURNED):
            first = reviewed.get(f.account_id)
            reviewed[f.account_id] = f.created_at if first is None else min(first, f.created_at)
    for account_id, department_id in active:
        r = row(department_id)
        r.accounts += 1
        when = reviewed.get(account_id)
        if when is None:
            r.reviews_missing += 1
        elif when < due_end:
            r.reviews_on_time += 1
        else:
            r.reviews_late += 1
    by_id = {f.id: f for f in filings}
    previous: dict[int, datetime] = {}
    for d in session.scalars(select(Decision).order_by(Decision.decided_at, Decision.id)):
        f = by_id.get(d.filing_id)
        if f is None:
            continue
        since = previous.get(f.id, f.created_at)
        previous[f.id] = d.decided_at
        if not start <= d.decided_at < end:
            continue
        r = row(f.department_id)
        r.decide_hours.append(max(0.0, (d.decided_at - since).total_seconds() / 3600))
        if f.kind == "annual" and d.outcome == "fix":
            r.rectify += 1
        elif f.kind == "annual" and d.outcome == "fail":
            r.failed += 1
    return sorted(rows.values(), key=lambda r: r.department_id)


def totals(rows, names: tuple[str, ...]) -> dict[str, int]:
    """Column sums of `rows` for the attributes `names`."""
    return {n: sum(getattr(r, n) for r in rows) for n in names}


def departments(session) -> list[tuple[int, str]]:
    """(id, name) of every department but the school root, for filters."""
    return [(d.id, d.name) for d in session.scalars(
        select(Department).where(NOT_ROOT).order_by(Department.id))]


def waiting_by_stage(session, visible: list[Filing], mine: set[int]) -> list[tuple[str, list]]:
    """Waiting filings grouped by the title of their stage, the viewer's own tasks first
    within each group and the groups holding them first; oldest first otherwise."""
    groups: dict[str, list] = defaultdict(list)
    for f in visible:
        stage = kind_of(f).stage_at(f.status)
        if stage is not None:
            groups[stage.title].append(f)
    ordered = []
    for title, items in groups.items():
        items.sort(key=lambda f: (f.id not in mine, f.created_at, f.id))
        ordered.append((title, items))
    ordered.sort(key=lambda g: (not any(f.id in mine for f in g[1]), g[0]))
    return ordered
