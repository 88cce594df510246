"""What waits for a member's decision (待办, the queue's "yours"), found in SQL: a stage's
deciders (workflow.routing.approvers) written as conditions on the filing, so a member with
thousands of filings waiting reads a page of them, not every waiting filing of the school.

Stages decided per account (account_keepers: its administrators, tech for an account it built,
else the department's heads) are narrowed in SQL to the member's candidates, which approvers()
then confirms one by one: there are few (closures on their way), and the rule stays written once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, and_, cast, false, func, or_, select
from sqlalchemy.orm import aliased

from models import Account, Filing
from workflow.kinds import KINDS, Stage, kind_of
from workflow.queries import OLDEST
from workflow.roles import role_names
from workflow.routing import approvers


@dataclass(frozen=True)
class WaitingSQL:
    """SQL conditions for what waits for a member: `exact` holds only filings they decide;
    `keepers` may hold more (account_keepers stages are decided per account: see
    workflow.routing.account_keepers), each of which approvers() confirms."""

    exact: object
    keepers: object


def waiting_conditions(session, userid: str) -> WaitingSQL:
    """The filings waiting at a stage `userid` decides, as SQL (see WaitingSQL)."""
    roles, headed = role_names(session, userid)
    exact, keepers = [], []
    for kind in KINDS.values():
        for stage in kind.stages:
            at = [Filing.kind == kind.name, Filing.status == stage.status]
            if not stage.submitter_decides:
                at.append(Filing.submitter != userid)
            if stage.deciders == "dept_heads":
                if headed:
                    exact.append(and_(*at, Filing.department_id.in_(headed)))
            elif stage.deciders == "account_keepers":
                keepers.append(and_(*at, keeper_candidate(userid, roles, headed)))
            elif stage.deciders in roles:
                exact.append(and_(*at))
    return WaitingSQL(or_(false(), *exact), or_(false(), *keepers))


def keeper_candidate(userid: str, roles, headed):
    """SQL: `userid` may keep the filing's account — tech for an account it built, one of its
    administrators, or a head of its department (narrowed further by approvers())."""
    administers = select(Account.id).where(
        Account.id == Filing.account_id,
        cast(Account.admin_userids, String).like(f'%"{userid}"%')).correlate(Filing).exists()
    clauses = [administers]
    if "tech" in roles:
        applied = aliased(Filing)
        clauses.append(select(applied.id).where(applied.kind == "apply",
                                                applied.account_id == Filing.account_id)
                       .correlate(Filing).exists())
    if headed:
        clauses.append(Filing.department_id.in_(headed))
    return or_(*clauses)


def waiting_clause(session, userid: str):
    """SQL condition: exactly the filings waiting for `userid`'s decision."""
    conditions = waiting_conditions(session, userid)
    kept = [f.id for f in session.scalars(select(Filing).where(conditions.keepers))
            if userid in approvers(session, f, kind_of(f).stage_at(f.status))]
    return or_(conditions.exact, Filing.id.in_(kept)) if kept else conditions.exact


def waiting_for(session, userid: str, *, among=None) -> list[tuple[Filing, Stage]]:
    """Filings waiting for `userid`'s decision, oldest first, with the stage they wait at:
    all of them, or those of `among` (ids: a page already read)."""
    query = select(Filing).where(waiting_clause(session, userid)).order_by(Filing.id)
    if among is not None:
        query = query.where(Filing.id.in_(list(among)))
    return [(f, kind_of(f).stage_at(f.status)) for f in session.scalars(query)]


def waiting_page(session, userid: str, size: int) -> tuple[list[tuple[Filing, Stage]], int]:
    """The oldest `size` filings waiting for `userid`'s decision (with their stage), and how
    many wait in all.

    One statement: the total is counted over the whole set (a window), and the order is by
    submission time, which no index gives. Ordered by id alone, PostgreSQL walks the primary
    key from the oldest filing looking for the first waiting ones, the newest of the
    registry (100 ms at 300,000 filings); this way it reads the few waiting filings through
    ix_filing_status_kind and sorts them (1 ms). See workflow.queries.OLDEST."""
    total = func.count().over().label("total")
    rows = session.execute(select(Filing, total).where(waiting_clause(session, userid))
                           .order_by(*OLDEST).limit(size)).all()
    return [(f, kind_of(f).stage_at(f.status)) for f, _ in rows], rows[0].total if rows else 0
