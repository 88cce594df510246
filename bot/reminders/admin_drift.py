"""Directory drift: accounts whose 管理员 or 负责人 left, and the 变更 requests sent about them.
Checked after every directory sync (`directory sync`, the worker's daily sync)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select

from bot import directory
from bot.notify import unit_of_work
from bot.reminders.common import Planned
from bot.reminders.delivery import record
from bot.reminders.plan import active_userids, department_heads_map
from models import Account, AccountStatus, Membership, User


def drift(session, today: date) -> list[Planned]:
    """Accounts whose 管理员 or 负责人 left the directory or the account's department: the
    department's heads are asked, once per person and role, to file a 变更."""
    active = active_userids(session)
    members = defaultdict(set)
    for userid, dept_id in session.execute(select(Membership.userid,
                                                  Membership.department_id)).all():
        members[dept_id].add(userid)
    heads = department_heads_map(session)
    names = dict(session.execute(select(User.userid, User.name)).all())
    planned = []
    for account in session.execute(select(Account.id, Account.name, Account.filing_no,
                                          Account.department_id, Account.admin_userids,
                                          Account.details)
                                   .where(Account.status == AccountStatus.ACTIVE)).all():
        leader = ((account.details or {}).get("leader") or {}).get("userid")
        people = [(1, "管理员", admin) for admin in account.admin_userids or []]
        people += [(2, "负责人", leader)] if leader else []  # an outsider has no userid
        for seq, role, userid in people:
            if userid in active and userid in members[account.department_id]:
                continue
            if heads.get(account.department_id):  # seq: 1 about a 管理员, 2 about the 负责人
                planned.append(Planned("drift", str(account.id), userid, seq,
                                       heads[account.department_id], {
                    "account": {"name": account.name, "filing_no": account.filing_no},
                    "role": role, "person": names.get(userid, userid),
                    "left": userid not in active}))
    return planned


def check_drift(app, today: date) -> int:
    """Queue 变更 requests for drifted accounts; returns how many were queued."""
    with unit_of_work(app) as job:
        due = record(job.session, drift(job.session, today), today)
        for p in due:
            job.tell(p.recipients, "reminders/drift", automatic=True, **p.data)
        job.commit()
    return len(due)


def sync_and_check(app, today: date) -> dict:
    """Refresh the directory from WeCom, then queue 变更 requests for what drifted."""
    counts = directory.sync_directory(app.extensions["filingbot.engine"],
                                      app.extensions["filingbot.client"])
    return {**counts, "drifted": check_drift(app, today)}
