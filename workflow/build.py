"""Art. 6's last step: tech reports the new account's ID after 已开通, and the account becomes
active (its applicant is told)."""

from __future__ import annotations

from models import Account, AccountStatus, AuditLog, Filing
from workflow.forms import validators as v


def record_build_id(uow, filing_id: int, text: str) -> Account:
    """Give the account of an approved 申请 its platform ID; raises v.Invalid for a bad ID."""
    filing = uow.session.get(Filing, filing_id)
    account = uow.session.get(Account, filing.account_id)
    external_id = v.account_id(text, account.platform)
    uow.session.add(AuditLog(at=uow.clock.now(), actor=uow.actor.userid, action="account:built",
                             filing_id=filing.id, account_id=account.id,
                             before={"status": account.status},
                             after={"status": AccountStatus.ACTIVE, "external_id": external_id}))
    account.external_id, account.status = external_id, AccountStatus.ACTIVE
    account.updated_at = uow.clock.now()
    uow.tell([filing.submitter], "approval/built", account=account, filing=filing)
    return account
