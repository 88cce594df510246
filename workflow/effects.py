"""What a decision changes besides the filing's status (SPEC §5.5): the registry, filing
numbers, closure cases, and who is told. Each effect is named in a Choice of workflow.kinds
and runs as `effect(uow, transition)` in the decision's transaction; every message goes
through the unit of work."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from models import Account, AccountStatus, AuditLog, Decision, Filing, FilingStatus
from workflow.numbers import next_filing_number
from workflow.roles import department_heads, holders


@dataclass(frozen=True)
class Transition:
    """A decision that won: the filing (status already changed), where it was decided, how."""

    filing: Filing
    kind: object  # workflow.kinds.Kind
    stage: object  # workflow.kinds.Stage
    choice: object  # workflow.kinds.Choice
    decision: Decision


ACCOUNT_DETAILS = ("homepage", "purpose", "opened", "leader", "admins", "reason", "positioning")


def create_account(uow, t: Transition) -> None:
    """登记/申请 approved: the account enters the registry with the next 备案编号 (SPEC §3);
    a registered one is active, an applied one pending until tech builds it (art. 6)."""
    filing, fields = t.filing, t.filing.fields
    number = next_filing_number(uow.session, uow.settings, platform_code=fields["platform"],
                                year=uow.clock.local_now().year)
    built = fields.get("external_id") is not None and t.choice.next_status == FilingStatus.APPROVED
    closed = uow.session.scalar(select(Account).where(
        Account.platform == fields["platform"], Account.external_id == fields["external_id"],
        Account.status == AccountStatus.CLOSED)) if built else None
    if closed is not None:  # registered again after it was closed: the account comes back
        return reopen_account(uow, t, closed, number)
    account = Account(
        platform=fields["platform"], name=fields["name"],
        external_id=fields.get("external_id") if built else None,
        department_id=filing.department_id, filing_no=number,
        status=AccountStatus.ACTIVE if built else AccountStatus.PENDING,
        details={k: fields[k] for k in ACCOUNT_DETAILS if k in fields},
        admin_userids=[p["userid"] for p in fields.get("admins", []) if p.get("userid")],
        created_at=uow.clock.now(), updated_at=uow.clock.now())
    uow.session.add(account)
    uow.session.flush()
    filing.account_id = account.id
    audit(uow, filing, "account:create", {}, {"status": account.status, "filing_no": number})


def reopen_account(uow, t: Transition, account: Account, number: str) -> None:
    """A closed account registered again: active, renumbered, its history kept."""
    fields = t.filing.fields
    audit(uow, t.filing, "account:reopen", {"status": account.status, "filing_no":
                                             account.filing_no},
          {"status": AccountStatus.ACTIVE, "filing_no": number}, account_id=account.id)
    account.name, account.department_id = fields["name"], t.filing.department_id
    account.status, account.filing_no = AccountStatus.ACTIVE, number
    account.details = {k: fields[k] for k in ACCOUNT_DETAILS if k in fields}
    account.admin_userids = [p["userid"] for p in fields.get("admins", []) if p.get("userid")]
    account.updated_at = uow.clock.now()
    t.filing.account_id = account.id


def apply_change(uow, t: Transition) -> None:
    """变更 approved: the account's 负责人 and/or 管理员 are replaced (art. 5)."""
    fields = t.filing.fields
    account = uow.session.get(Account, t.filing.account_id)
    details = dict(account.details)
    before = {"leader": details.get("leader"), "admins": details.get("admins")}
    if fields.get("new_leader"):
        details["leader"] = fields["new_leader"]
    if fields.get("new_admins"):
        details["admins"] = fields["new_admins"]
        account.admin_userids = [p["userid"] for p in fields["new_admins"] if p.get("userid")]
    account.details = details
    account.updated_at = uow.clock.now()
    audit(uow, t.filing, "account:change", before,
          {"leader": details.get("leader"), "admins": details.get("admins")})


def close_account(uow, t: Transition) -> None:
    """注销 approved, or a new account that cannot be built: the account is closed."""
    set_account_status(uow, t.filing, AccountStatus.CLOSED)


def complete_ordered_closure(uow, t: Transition) -> None:
    """A closure ordered after a failed audit is done once the account is actually closed."""
    for case in uow.session.scalars(select(Filing).where(
            Filing.kind == "close", Filing.status == FilingStatus.ORDERED,
            Filing.account_id == t.filing.account_id)):
        case.status, case.updated_at = FilingStatus.DONE, uow.clock.now()
        audit(uow, case, "close:done", {"status": FilingStatus.ORDERED},
              {"status": FilingStatus.DONE, "by": t.filing.id})


def record_review(uow, t: Transition) -> None:
    """年检 合格: the account's last reviewed year moves on."""
    account = uow.session.get(Account, t.filing.account_id)
    year = t.filing.fields["year"]
    if account.last_review_year is None or account.last_review_year < year:
        audit(uow, t.filing, "account:review", {"last_review_year": account.last_review_year},
              {"last_review_year": year})
        account.last_review_year = year


def order_closure(uow, t: Transition) -> None:
    """Art. 7: a failed audit orders the account closed and opens a 注销 case to track."""
    filing = t.filing
    set_account_status(uow, filing, AccountStatus.ORDERED_CLOSED)
    case = Filing(kind="close", account_id=filing.account_id, department_id=filing.department_id,
                  submitter=uow.actor.userid, status=FilingStatus.ORDERED,
                  fields={"account": filing.fields["account"],
                          "reason": f"{filing.fields['year']} 年度检查不合格，责令注销"},
                  created_at=uow.clock.now(), updated_at=uow.clock.now())
    uow.session.add(case)
    uow.session.flush()
    audit(uow, case, "close:ordered", {}, {"status": FilingStatus.ORDERED})
    heads = department_heads(uow.session, filing.department_id)
    uow.tell(sorted({*heads, filing.submitter}), "approval/ordered_closed", filing=filing,
             case=case)


def copy_publicity(uow, t: Transition) -> None:
    """宣传部 gets a copy of approved filings (SPEC §5.5)."""
    publicity = [u for u in holders(uow.session, "publicity") if u != t.filing.submitter]
    if publicity:
        uow.tell(publicity, "approval/publicity_copy", filing=t.filing, form=t.kind.form,
                 account=account_of(uow, t.filing), decider=uow.actor.name)


# --- helpers --------------------------------------------------------------------------------
def set_account_status(uow, filing: Filing, status: AccountStatus) -> None:
    """Change the status of the filing's account, audited."""
    account = uow.session.get(Account, filing.account_id) if filing.account_id else None
    if account is None:
        return
    audit(uow, filing, "account:status", {"status": account.status}, {"status": status},
          account_id=account.id)
    account.status = status
    account.updated_at = uow.clock.now()


def audit(uow, filing, action: str, before: dict, after: dict, account_id=None) -> None:
    """Append to the audit log as the unit of work's actor."""
    uow.session.add(AuditLog(at=uow.clock.now(), actor=uow.actor.userid, action=action,
                             filing_id=filing.id if filing else None,
                             account_id=account_id or (filing.account_id if filing else None),
                             before=before, after=after))


def account_of(uow, filing: Filing) -> Account | None:
    """The account a filing concerns (None before one exists)."""
    return uow.session.get(Account, filing.account_id) if filing.account_id else None
