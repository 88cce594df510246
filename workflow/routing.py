"""Who decides at each stage, and getting a filing in front of them (SPEC §5.1-5.2)."""

from __future__ import annotations

from sqlalchemy import select

from models import Account, Filing, User
from workflow.deciders import Lookup
from workflow.kinds import Stage, kind_of, stage_of
from workflow.roles import department_heads, holders


class HeadsUnknown(Exception):
    """Nobody known leads `department_id`: raised inside a callback's transaction, which rolls
    back, asks WeCom (bot.directory.lookup_heads) with no transaction open, and starts again."""

    def __init__(self, department_id: int):
        super().__init__(department_id)
        self.department_id = department_id


def approvers(session, filing, stage: Stage, *, lookup: Lookup | None = None) -> list[str]:
    """Userids entitled to decide `filing` at `stage`; never its submitter (SPEC §2).
    `lookup` answers who heads a department and holds a role (workflow.deciders: a job asking
    about many filings passes one read once)."""
    lookup = lookup or Lookup(session)
    if stage.deciders == "dept_heads":
        userids = lookup.heads(filing.department_id)
    elif stage.deciders == "account_keepers":
        userids = account_keepers(session, filing, lookup=lookup)
    else:
        userids = lookup.holders(stage.deciders)
    return [u for u in userids if u != filing.submitter or stage.submitter_decides]


def account_keepers(session, filing, *, lookup: Lookup | None = None) -> list[str]:
    """Who runs the filing's account on its platform: tech for an account it built (art. 6),
    else its administrators still in the directory, else the department's heads."""
    lookup = lookup or Lookup(session)
    built = session.scalar(select(Filing.id).where(Filing.kind == "apply",
                                                   Filing.account_id == filing.account_id))
    if built is not None:
        return lookup.holders("tech")
    account = session.get(Account, filing.account_id) if filing.account_id else None
    admins = account.admin_userids if account is not None else []
    active = set(session.scalars(select(User.userid).where(
        User.userid.in_(admins), User.active.is_(True)))) if admins else set()
    return [u for u in admins if u in active] or lookup.heads(filing.department_id)


def route(uow, filing) -> None:
    """Send the card of the filing's current stage; with nobody to send it to, say so."""
    stage = stage_of(filing)
    if stage is None:
        return
    recipients = approvers(uow.session, filing, stage)
    if not recipients and stage.deciders == "dept_heads" and uow.heads_looked_up is not None \
            and filing.department_id not in uow.heads_looked_up \
            and not department_heads(uow.session, filing.department_id):
        raise HeadsUnknown(filing.department_id)  # WeCom is asked, then the message again
    if not recipients:
        uow.tell([filing.submitter], "approval/no_approver", filing=filing, stage=stage)
        admins = holders(uow.session, "admin")
        if admins:
            uow.tell(admins, "approval/admin_alert", filing=filing, stage=stage,
                     form=kind_of(filing).form)
        return
    uow.send_card(filing, stage, recipients)
