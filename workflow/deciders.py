"""Who heads a department and who holds a role, as workflow.routing.approvers asks: from the
database on each question (`Lookup`), or read once for a job that asks about thousands of
filings (`Preloaded`: the daily nudges)."""

from __future__ import annotations

from collections import defaultdict
from functools import cache

from sqlalchemy import select

from models import Membership, RoleGrant
from workflow.roles import department_heads, holders


class Lookup:
    """Each question is a query (a callback, a page: one filing at a time)."""

    def __init__(self, session):
        self.session = session

    def heads(self, department_id: int) -> list[str]:
        return department_heads(self.session, department_id)

    def holders(self, role: str) -> list[str]:
        return holders(self.session, role)


class Preloaded(Lookup):
    """Every department's heads read in two queries, each role's holders once: the same
    answers as Lookup (workflow.roles) for the length of one job."""

    def __init__(self, session):
        super().__init__(session)
        heads = defaultdict(set)
        for userid, department_id in session.execute(
                select(Membership.userid, Membership.department_id)
                .where(Membership.is_leader.is_(True))):
            heads[department_id].add(userid)
        for userid, department_id in session.execute(
                select(RoleGrant.userid, RoleGrant.department_id)
                .where(RoleGrant.role == "dept_head")):
            heads[department_id].add(userid)
        self._heads = {d: sorted(users) for d, users in heads.items()}
        self.holders = cache(super().holders)

    def heads(self, department_id: int) -> list[str]:
        return self._heads.get(department_id, [])
