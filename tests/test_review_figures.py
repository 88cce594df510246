"""The review and assessment figures counted in SQL (workflow.review, workflow.statistics) are
the figures a plain reading of every row gives (the Python below, as these modules read the
registry before issue 16): on a seeded random registry of accounts, 年检 of two years in every
status, decisions, ordered closures and reports."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlmodel import Session

from bot.clock import SHANGHAI
from models import (
    Account,
    AccountStatus,
    Decision,
    Department,
    Filing,
    FilingStatus,
    ZeroReport,
)
from workflow import review, statistics

S = FilingStatus
YEAR = 2025
DUE = date(2026, 3, 31)


@pytest.fixture(params=[1, 2, 3])
def registry(request, database_url):
    rnd = random.Random(request.param)
    engine = create_engine(database_url)
    start = datetime(2025, 1, 1, tzinfo=SHANGHAI)
    with Session(engine) as session:
        session.add(Department(id=1, name="学校", parent_id=0))
        session.add_all(Department(id=i, name=f"部门{i}", parent_id=1) for i in range(5, 10))
        session.add(ZeroReport(department_id=9, year=YEAR, userid="gaofeng"))
        session.flush()
        accounts = [Account(platform="WX", name=f"号{i}", external_id=f"id{i}",
                            department_id=rnd.choice([5, 6, 7, 8]),
                            status=rnd.choice([AccountStatus.ACTIVE] * 4 + [
                                AccountStatus.CLOSED, AccountStatus.CLOSING]),
                            last_review_year=rnd.choice([None, None, 2024, 2025]))
                    for i in range(40)]
        session.add_all(accounts)
        session.flush()
        filings = []
        for _ in range(150):
            account = rnd.choice(accounts)
            kind = rnd.choice(["annual"] * 5 + ["register", "report", "close", "change"])
            fields = {"account": {"id": account.id}}
            if kind == "annual":
                fields["year"] = rnd.choice([2024, 2025, 2025])
            if kind == "close" and rnd.random() < 0.4:
                fields["decision"] = 1
            filings.append(Filing(
                kind=kind, account_id=account.id, submitter="zhangsan", fields=fields,
                department_id=rnd.choice([account.department_id] * 5 + [None]),
                status=rnd.choice(list(S)),
                created_at=start + timedelta(hours=rnd.randrange(0, 24 * 540))))
        # sent back by the head in time, then filed again late: on time by the first
        late = Account(platform="WB", name="迟交号", external_id="late", department_id=5,
                       status=AccountStatus.ACTIVE)
        session.add(late)
        session.flush()
        filings += [Filing(kind="annual", account_id=late.id, department_id=5, submitter="lisi",
                           fields={"account": {"id": late.id}, "year": YEAR}, status=status,
                           created_at=datetime(2026, month, 1, tzinfo=SHANGHAI))
                    for status, month in ((S.RETURNED, 1), (S.AWAITING_OFFICE, 5))]
        session.add_all(filings)
        session.flush()
        for filing in rnd.sample(filings, 110):
            for _ in range(rnd.randint(1, 3)):
                session.add(Decision(
                    filing_id=filing.id, stage=rnd.choice(["dept", "office"]),
                    outcome=rnd.choice(["approve", "reject", "pass", "fix", "fail"]),
                    decider="wangwu",
                    decided_at=filing.created_at + timedelta(hours=rnd.randrange(-24, 24 * 90))))
        session.commit()
    with Session(engine) as session:
        yield session
    engine.dispose()


# --- the plain reading ----------------------------------------------------------------------
def plain_annual_states(session, year):
    rows = [r for r in session.execute(select(Filing.id, Filing.account_id, Filing.fields,
                                              Filing.status).where(
        Filing.kind == "annual",
        Filing.status.in_((*review.UNDER_WAY, *review.PASSED, S.RETURNED)))).all()
        if r.fields.get("year") == year]
    last = {}
    for filing_id, stage, outcome in session.execute(
            select(Decision.filing_id, Decision.stage, Decision.outcome).order_by(Decision.id)):
        last[filing_id] = (stage, outcome)
    states = {}
    for r in rows:
        if r.status in review.PASSED:
            states[r.account_id] = "done"
        elif r.status in review.UNDER_WAY or (r.status == S.RETURNED
                                              and last.get(r.id) in review.RECTIFYING):
            states.setdefault(r.account_id, "pending")
    return states


def plain_counts(session, year):
    states = plain_annual_states(session, year)
    rows = defaultdict(lambda: {"done": 0, "pending": 0, "missing": 0})
    missing = []
    for a in session.scalars(select(Account).where(Account.status == AccountStatus.ACTIVE)):
        state = states.get(a.id)
        if state == "done" or (a.last_review_year or 0) >= year:
            rows[a.department_id]["done"] += 1
        elif state == "pending":
            rows[a.department_id]["pending"] += 1
        else:
            rows[a.department_id]["missing"] += 1
            missing.append(a.id)
    return dict(rows), sorted(missing)


def plain_assessment(session, year, due):
    begin, end = statistics.year_bounds(year)
    due_end = datetime.combine(due + timedelta(days=1), datetime.min.time(), SHANGHAI)
    rows = defaultdict(lambda: defaultdict(int))
    hours = defaultdict(list)
    counted = plain_annual_states(session, year)
    reviewed = {}
    filings = session.scalars(select(Filing)).all()
    for f in filings:
        d = f.department_id or 0
        if begin <= f.created_at < end:
            if f.status != S.ORDERED and "decision" not in f.fields:
                rows[d]["filings"] += 1
            if f.kind == "report":
                rows[d]["impersonation_reports"] += 1
            if f.kind == "close" and "decision" in f.fields:
                rows[d]["ordered_closures"] += 1
        if f.kind == "annual" and f.fields.get("year") == year and f.account_id in counted \
                and f.status in (*review.UNDER_WAY, *review.PASSED, S.RETURNED):
            reviewed[f.account_id] = min(reviewed.get(f.account_id, f.created_at), f.created_at)
    for a in session.scalars(select(Account).where(Account.status == AccountStatus.ACTIVE)):
        rows[a.department_id]["accounts"] += 1
        when = reviewed.get(a.id)
        rows[a.department_id]["reviews_missing" if when is None else
                              "reviews_on_time" if when < due_end else "reviews_late"] += 1
    by_id = {f.id: f for f in filings}
    previous = {}
    for dec in session.scalars(select(Decision).order_by(Decision.decided_at, Decision.id)):
        f = by_id[dec.filing_id]
        since = previous.get(f.id, f.created_at)
        previous[f.id] = dec.decided_at
        if begin <= dec.decided_at < end:
            hours[f.department_id or 0].append(
                max(0.0, (dec.decided_at - since).total_seconds() / 3600))
            if f.kind == "annual" and dec.outcome in ("fix", "fail"):
                rows[f.department_id or 0]["rectify" if dec.outcome == "fix" else "failed"] += 1
    return rows, hours


# --- the figures ----------------------------------------------------------------------------
FIGURES = ("accounts", "filings", "reviews_on_time", "reviews_late", "reviews_missing",
           "rectify", "failed", "ordered_closures", "impersonation_reports")


def test_annual_states_and_review_progress_are_the_plain_reading(registry):
    assert review.annual_states(registry, YEAR) == plain_annual_states(registry, YEAR)
    counts, missing = plain_counts(registry, YEAR)
    progress = review.review_progress(registry, YEAR)
    assert {name: row for name, row in progress["table"]} == {
        f"部门{d}": row for d, row in counts.items()}
    assert sorted(a.id for a in progress["missing"]) == missing
    assert progress["zero"] == ["部门9"]
    assert review.reviewed_accounts(registry, YEAR) == (
        set(plain_annual_states(registry, YEAR)) | set(registry.scalars(
            select(Account.id).where(Account.last_review_year >= YEAR))))


def test_the_review_page_figures_are_the_plain_reading(registry):
    counts, _ = plain_counts(registry, YEAR)
    overview = statistics.review_overview(registry, YEAR)
    assert [r.department_id for r in overview if r.zero_report] == [9]
    assert {r.department_id for r in overview} == {5, 6, 7, 8, 9}
    for row in overview:
        plain = counts.get(row.department_id, {"done": 0, "pending": 0, "missing": 0})
        assert (row.reviewed, row.pending, row.missing, row.accounts) == (
            plain["done"], plain["pending"], plain["missing"], sum(plain.values()))


def test_the_assessment_figures_are_the_plain_reading(registry):
    rows, hours = plain_assessment(registry, YEAR, DUE)
    found = statistics.assessment(registry, YEAR, DUE)
    assert sum(r.filings for r in found) > 0 and sum(len(r.decide_hours) for r in found) > 0
    for row in found:
        assert {n: getattr(row, n) for n in FIGURES} == {
            n: rows.get(row.department_id, {}).get(n, 0) for n in FIGURES}, row.department_id
        assert sorted(row.decide_hours) == pytest.approx(sorted(hours.get(row.department_id, [])))
    assert {r.department_id for r in found} >= {d for d in rows if rows[d]}
