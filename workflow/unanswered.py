"""Departments that owe the annual review an answer (issue 14 item 14): they have a head in
the directory, no active account and no 零报告 for the year — 未回复 on the office's digest,
final report, /review page and workbook — and the people to ask for that answer.

Each function is a fixed number of grouped queries over the owing departments (a subquery),
whatever the size of the registry: nothing reads every account or every department."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import String, cast, exists, func, select

from models import Account, AccountStatus, Department, Filing, Membership, User, ZeroReport

NOT_ROOT = func.coalesce(Department.parent_id, -1) != 0  # the school itself owes no answer


def owing(year: int):
    """SQL: ids of the departments that owe an answer for `year` — an active head, no active
    account, no 零报告."""
    return (select(Membership.department_id)
            .join(User, User.userid == Membership.userid)
            .outerjoin(Department, Department.id == Membership.department_id)
            .where(Membership.is_leader.is_(True), User.active.is_(True), NOT_ROOT,
                   ~exists().where(Account.department_id == Membership.department_id,
                                   Account.status == AccountStatus.ACTIVE),
                   ~exists().where(ZeroReport.department_id == Membership.department_id,
                                   ZeroReport.year == year))
            .distinct())


def departments(session, year: int) -> list[tuple[int, str]]:
    """(id, name) of the departments that owe an answer for `year`, in directory order."""
    ids = owing(year).subquery()
    return [(d, name or str(d)) for d, name in session.execute(
        select(ids.c.department_id, Department.name)
        .outerjoin(Department, Department.id == ids.c.department_id)
        .order_by(Department.sort_order, ids.c.department_id))]


def names(session, year: int) -> list[str]:
    """Names of the departments that owe an answer for `year` (the digest's 未回复 line)."""
    return [name for _, name in departments(session, year)]


@dataclass
class Owing:
    """A department that owes an answer: who is most likely to give it, and its heads."""

    department_id: int
    name: str
    contacts: list[str] = field(default_factory=list)  # members who ran an account or filed
    heads: list[str] = field(default_factory=list)


def with_contacts(session, year: int) -> list[Owing]:
    """The owing departments with their contacts — active members, not heads, who administered
    one of its accounts (any status) or filed something for it — and their active heads."""
    found = {d: Owing(d, name) for d, name in departments(session, year)}
    if not found:
        return []
    ids = owing(year).scalar_subquery()
    members: dict[int, set[str]] = defaultdict(set)
    for department_id, userid, is_leader in session.execute(
            select(Membership.department_id, Membership.userid, Membership.is_leader)
            .join(User, User.userid == Membership.userid)
            .where(User.active.is_(True), Membership.department_id.in_(ids))):
        if department_id not in found:  # began to owe between two reads: next run
            continue
        if is_leader:
            found[department_id].heads.append(userid)
        else:
            members[department_id].add(userid)
    ran: dict[int, set[str]] = defaultdict(set)
    # admin_userids is a JSON list, unnested in SQL differently by SQLite and PostgreSQL: read
    # each department's distinct lists as text (json has no equality on PostgreSQL), parse here
    for department_id, admins in session.execute(
            select(Account.department_id, cast(Account.admin_userids, String))
            .where(Account.department_id.in_(ids)).distinct()):
        ran[department_id].update((json.loads(admins) if admins else None) or [])
    for department_id, submitter in session.execute(
            select(Filing.department_id, Filing.submitter)
            .where(Filing.department_id.in_(ids)).distinct()):
        ran[department_id].add(submitter)
    for department_id, owing_one in found.items():
        owing_one.contacts = sorted(members[department_id] & ran[department_id])
        owing_one.heads.sort()
    return list(found.values())
