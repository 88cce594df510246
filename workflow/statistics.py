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

from sqlalchemy import and_, case, func, select

from models import Account, AccountStatus, Decision, Department, Filing, FilingStatus, ZeroReport
from models.base import UTCDateTime
from workflow import unanswered
from workflow.kinds import kind_of
from workflow.review import PASSED, UNDER_WAY, department_counts, states_query

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
    owes_answer: bool = False  # no account, no 零报告, and a head to give one (workflow.unanswered)

    @property
    def never_answered(self) -> bool:
        """未回复: nothing came from the department — no 年检 for any of its accounts, or (with
        no account) no 零报告 that it owes."""
        if self.accounts == 0:
            return self.owes_answer
        return not self.zero_report and self.reviewed == 0 and self.pending == 0


def review_overview(session, year: int) -> list[ReviewRow]:
    """Every department (but the school root) with its review figures for `year`, the ones
    with most missing first."""
    rows = {d: ReviewRow(d, name) for d, name in departments(session)}
    for department_id, counts in department_counts(session, year).items():
        row = rows.setdefault(department_id, ReviewRow(department_id, str(department_id)))
        row.reviewed, row.pending, row.missing = (counts["done"], counts["pending"],
                                                  counts["missing"])
        row.accounts = row.reviewed + row.pending + row.missing
    for department_id in session.scalars(select(ZeroReport.department_id)
                                         .where(ZeroReport.year == year)):
        if department_id in rows:
            rows[department_id].zero_report = True
    for department_id in session.scalars(unanswered.owing(year)):
        if department_id in rows:
            rows[department_id].owes_answer = True
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


# The assessment's counted columns, in the order the page and the workbook show them (their
# words: templates/ledger/_names.j2 `assessment`).
ASSESSMENT_COUNTS = ("accounts", "filings", "reviews_on_time", "reviews_late", "reviews_missing",
                     "rectify", "failed", "ordered_closures", "impersonation_reports")


def review_due(review_window, year: int) -> date:
    """The last day for `year`'s 年检: the end of the review window (settings) in `year` + 1."""
    (_, _), (month, day) = review_window
    return date(year + 1, month, day)


def assessment_total(rows: list[AssessmentRow], name: str) -> AssessmentRow:
    """The 合计 row: every count summed, the median over every decision."""
    return AssessmentRow(0, name, **totals(rows, ASSESSMENT_COUNTS),
                         decide_hours=[h for r in rows for h in r.decide_hours])


def assessment(session, year: int, review_due: date) -> list[AssessmentRow]:
    """Per department, by id: the figures of `year` (see the module docstring)."""
    start, end = year_bounds(year)
    due_end = datetime.combine(review_due + timedelta(days=1), datetime.min.time(), BEIJING)
    rows = {d: AssessmentRow(d, name) for d, name in departments(session)}

    def row(department_id) -> AssessmentRow:
        return rows.setdefault(department_id, AssessmentRow(department_id or 0,
                                                            str(department_id or "—")))

    during = and_(Filing.created_at >= start, Filing.created_at < end)
    # Filings of the year by department, kind and status; an ordered 注销 (its fields carry
    # the decision that ordered it) is the office's act, not a filing the department made.
    for department_id, kind, status, count in session.execute(
            select(Filing.department_id, Filing.kind, Filing.status, func.count())
            .where(during, Filing.kind != "close")
            .group_by(Filing.department_id, Filing.kind, Filing.status)):
        r = row(department_id)
        r.filings += count if status != FilingStatus.ORDERED else 0
        r.impersonation_reports += count if kind == "report" else 0
    for department_id, status, fields in session.execute(
            select(Filing.department_id, Filing.status, Filing.fields)
            .where(during, Filing.kind == "close")):
        if status != FilingStatus.ORDERED and "decision" not in fields:
            row(department_id).filings += 1
        if "decision" in fields:
            row(department_id).ordered_closures += 1
    # Each active account with a 年检 that counts (workflow.review) is on time or late by the
    # earliest submission among its 年检 for the year on their way, passed or sent back.
    states = states_query(year).subquery()
    first = (select(Filing.account_id, func.min(Filing.created_at).label("at"))
             .where(Filing.kind == "annual", Filing.year == year,
                    Filing.status.in_((*UNDER_WAY, *PASSED, FilingStatus.RETURNED)))
             .group_by(Filing.account_id)).subquery()
    timing = case((states.c.account_id.is_(None), "missing"),
                  (first.c.at < due_end, "on_time"), else_="late").label("timing")
    timed = (select(Account.department_id, timing)
             .outerjoin(states, states.c.account_id == Account.id)
             .outerjoin(first, first.c.account_id == Account.id)
             .where(Account.status == AccountStatus.ACTIVE)).subquery()
    for department_id, label, count in session.execute(
            select(timed.c.department_id, timed.c.timing, func.count())
            .group_by(timed.c.department_id, timed.c.timing)):
        r = row(department_id)
        r.accounts += count
        setattr(r, f"reviews_{label}", getattr(r, f"reviews_{label}") + count)
    # Decisions of the year, each timed from the one before it on the same filing (or from
    # the filing's submission): the window runs in SQL over the filings decided this year.
    decided = select(Decision.filing_id).where(Decision.decided_at >= start,
                                               Decision.decided_at < end)
    since = func.lag(Decision.decided_at, type_=UTCDateTime()).over(partition_by=Decision.filing_id,
                                              order_by=(Decision.decided_at, Decision.id))
    timed_decisions = (select(Decision.decided_at, Decision.outcome, since.label("since"),
                              Filing.created_at, Filing.kind, Filing.department_id)
                       .join(Filing, Filing.id == Decision.filing_id)
                       .where(Decision.filing_id.in_(decided))).subquery()
    for d in session.execute(select(timed_decisions).where(
            timed_decisions.c.decided_at >= start, timed_decisions.c.decided_at < end)):
        r = row(d.department_id)
        began = d.since or d.created_at
        r.decide_hours.append(max(0.0, (d.decided_at - began).total_seconds() / 3600))
        if d.kind == "annual" and d.outcome == "fix":
            r.rectify += 1
        elif d.kind == "annual" and d.outcome == "fail":
            r.failed += 1
    return sorted(rows.values(), key=lambda r: r.department_id)


def totals(rows, names: tuple[str, ...]) -> dict[str, int]:
    """Column sums of `rows` for the attributes `names`."""
    return {n: sum(getattr(r, n) for r in rows) for n in names}


def departments(session, among=None) -> list[tuple[int, str]]:
    """(id, name) of every department but the school root, for filters; or of those of
    `among` (ids). Two columns, not Department objects: a province has thousands."""
    query = select(Department.id, Department.name).where(NOT_ROOT).order_by(Department.id)
    if among is not None:
        query = query.where(Department.id.in_(list(among)))
    return [(d, name) for d, name in session.execute(query)]


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
