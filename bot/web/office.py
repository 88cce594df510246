"""The office's overview pages: /queue (what waits, per stage, with its age), /review/<year>
(the annual review per department, with a bar chart) and /assessment/<year> (art. 16 figures).

Figures come from workflow.statistics and workflow.queries; which roles open the school-wide
pages is workflow.access.may_open's call (403 otherwise)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from bot.web.auth import login_required
from bot.web.db import clock, read_session
from bot.web.users import current_user
from workflow import statistics, unanswered
from workflow.access import may_open
from workflow.kinds import FORMS
from workflow.queries import Page, names_of, waiting_filings
from workflow.waiting import waiting_clause

bp = Blueprint("office", __name__)

QUEUE_PAGE = 50  # waiting filings per page of /queue (the oldest first)
REVIEW_PAGE = 50  # departments per page of /review/<year> (the most missing first)
YEARS = range(2000, 2100)


def _require(page: str) -> None:
    """403 unless the signed-in member's roles open `page`."""
    if not may_open(current_user.viewer, page):
        abort(403)


def _page() -> int:
    """The ?page= of the request (1 when missing or unreadable)."""
    value = request.args.get("page", "")
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else 1


def _year(year: int) -> int:
    """The year of a path, or 404 when it is not a plausible one."""
    if year not in YEARS:
        abort(404)
    return year


@bp.get("/queue")
@login_required
def queue():
    """Filings waiting that the member may see, the oldest first and a page at a time; per
    stage on the page, their own tasks first."""
    session = read_session()
    waiting, mine = waiting_filings(session, current_user.viewer, _page(), QUEUE_PAGE,
                                    mark=waiting_clause(session, current_user.userid))
    groups = statistics.waiting_by_stage(session, waiting.items, mine)
    names = names_of(session, [f.submitter for f in waiting.items])
    return render_template("web/queue.html", groups=groups, mine=mine, names=names, forms=FORMS,
                           total=waiting.total, page=waiting, now=clock().now())


@bp.get("/review")
@login_required
def review_current():
    """The review of last year (the one the campaign of this year collects)."""
    return review(clock().local_now().year - 1)


@bp.get("/review/<int:year>")
@login_required
def review(year: int):
    """Per department: accounts, reviewed, pending, missing, 零报告, 未回复 (never answered);
    the school's totals, then the departments a page at a time, the most missing first (a
    province has thousands: the whole table is the Excel export); and the departments that owe
    an answer, by name."""
    _require("review")
    session = read_session()
    rows = statistics.review_overview(session, _year(year))
    total = statistics.totals(rows, ("accounts", "reviewed", "pending", "missing"))
    page = min(_page(), max(1, -(-len(rows) // REVIEW_PAGE)))
    shown = Page(rows[(page - 1) * REVIEW_PAGE:page * REVIEW_PAGE], len(rows), page, REVIEW_PAGE)
    return render_template("web/review.html", year=year, rows=shown.items, page=shown,
                           total=total, scale=max([r.accounts for r in shown.items] + [1]),
                           silent=unanswered.names(session, year))


@bp.get("/assessment")
@login_required
def assessment_current():
    """The assessment of last year."""
    return assessment(clock().local_now().year - 1)


@bp.get("/assessment/<int:year>")
@login_required
def assessment(year: int):
    """Per department figures of the yearly assessment (art. 16)."""
    _require("assessment")
    due = statistics.review_due(current_app.config["SETTINGS"].review_window, _year(year))
    rows = statistics.assessment(read_session(), year, due)
    return render_template("web/assessment.html", year=year, rows=rows, due=due,
                           total=statistics.assessment_total(rows, "合计"))
