"""Directory drift: accounts whose administrator left, and the 变更 requests sent about them."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select

from bot.notify import unit_of_work
from bot.reminders.common import Planned
from bot.reminders.delivery import record
from bot.reminders.plan import active_userids, department_heads_map
from models import Account, AccountStatus, Membership, User


def drift(session, today: date) -> list[Planned]:
    """Accounts whose administrator left the directory or the account's department: the
    department's heads are asked, once per administrator, to file a 变更."""
    active = active_userids(session)
    members = defaultdict(set)
    for userid, dept_id in session.execute(select(Membership.userid,
                                                  Membership.department_id)).all():
        members[dept_id].add(userid)
    heads = department_heads_map(session)
    names = dict(session.execute(select(User.userid, User.name)).all())
    planned = []
    for account in session.execute(select(Account.id, Account.name, Account.filing_no,
                                          Account.department_id, Account.admin_userids)
                                   .where(Account.status == AccountStatus.ACTIVE)).all():
        for admin in account.admin_userids or []:
            if admin in active and admin in members[account.department_id]:
                continue
            if heads.get(account.department_id):
                planned.append(Planned("drift", str(account.id), admin, 1,
                                       heads[account.department_id], {
                    "account": {"name": account.name, "filing_no": account.filing_no},
                    "admin": names.get(admin, admin), "left": admin not in active}))
    return planned


def check_drift(app, today: date) -> int:
    """Queue 变更 requests for drifted accounts; returns how many were queued."""
    with unit_of_work(app) as job:
        due = record(job.session, drift(job.session, today), today)
        for p in due:
            job.tell(p.recipients, "reminders/drift", automatic=True, **p.data)
        job.commit()
    return len(due)
