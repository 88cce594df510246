"""Who sees what (SPEC §8; issue #7 §3), enforced here for every surface:

- staff: their own filings, and the accounts and filings of their departments;
- dept_head: the same for the departments they head or belong to;
- office, publicity, admin: everything;
- tech: every account, and the filings of kinds it works on (build tasks, reports).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import false, or_, select, true

from models import Account, Filing, Membership
from workflow.kinds import KINDS
from workflow.roles import role_names

SEES_EVERYTHING = frozenset({"office", "publicity", "admin"})


# Pages whose figures are school-wide: only these roles open them (others get 403). Every
# other page is open to every member and shows what the queries below let them see.
SCHOOL_WIDE_PAGES = {"review": SEES_EVERYTHING, "assessment": SEES_EVERYTHING}


@dataclass(frozen=True)
class Viewer:
    """A member as the rules see them: roles and departments."""

    userid: str
    roles: frozenset[str]
    departments: tuple[int, ...]  # member of, or granted dept_head for

    @property
    def sees_everything(self) -> bool:
        return bool(self.roles & SEES_EVERYTHING)

    @property
    def sees_all_accounts(self) -> bool:
        return self.sees_everything or "tech" in self.roles


def viewer(session, userid: str) -> Viewer:
    """The rules' view of `userid` (roles school-wide or per department, memberships)."""
    roles, headed = role_names(session, userid)
    member_of = session.scalars(select(Membership.department_id)
                                .where(Membership.userid == userid)).all()
    return Viewer(userid, frozenset(roles), tuple(dict.fromkeys([*member_of, *headed])))


def tech_kinds() -> tuple[str, ...]:
    """Kinds with a stage tech decides: their filings are tech's tasks."""
    return tuple(k.name for k in KINDS.values() if any(s.deciders == "tech" for s in k.stages))


def filing_clause(v: Viewer):
    """SQL condition: the filings `v` may see."""
    if v.sees_everything:
        return true()
    clauses = [Filing.submitter == v.userid]
    if v.departments:
        clauses.append(Filing.department_id.in_(v.departments))
    if "tech" in v.roles:
        clauses.append(Filing.kind.in_(tech_kinds()))
    return or_(*clauses)


def account_clause(v: Viewer):
    """SQL condition: the accounts `v` may see."""
    if v.sees_all_accounts:
        return true()
    return Account.department_id.in_(v.departments) if v.departments else false()


def can_see_filing(v: Viewer, filing: Filing) -> bool:
    """Whether `v` may open `filing` (a submitter always opens what they submitted)."""
    return (v.sees_everything or filing.submitter == v.userid
            or filing.department_id in v.departments
            or ("tech" in v.roles and filing.kind in tech_kinds()))


def can_see_account(v: Viewer, account: Account) -> bool:
    """Whether `v` may open `account`."""
    return v.sees_all_accounts or account.department_id in v.departments


def may_open(v: Viewer, page: str) -> bool:
    """Whether `v`'s roles open `page` at all (a school-wide page needs one of its roles)."""
    allowed = SCHOOL_WIDE_PAGES.get(page)
    return allowed is None or bool(v.roles & allowed)
