"""What a decision changes besides the filing's status (SPEC §5.5): the registry, filing
numbers, closure cases, and who is told. Each effect is named in a Choice of workflow.kinds
and runs as `effect(uow, transition)` in the decision's transaction; every message goes
through the unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from models import Account, AccountStatus, AuditLog, Decision, Filing, FilingStatus
from workflow.changes import changes, current, requested
from workflow.closure import set_closed_on
from workflow.deadlines import close_case, default_due, set_due
from workflow.duplicates import lock_account_id
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
    due_on: date | None = None  # a deadline the decider gave (限期整改, 不合格)
    told: dict = field(default_factory=dict)  # what effects add to the messages (old → new …)


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
    """变更 approved: the account's 负责人, 管理员, name, platform and/or ID are replaced
    (art. 5; an account renamed on its platform), audited old → new.

    A new platform/ID pair another account already holds is left unchanged (the form refused
    it, but someone may have registered it since); the messages say so."""
    account = uow.session.get(Account, t.filing.account_id)
    before, wanted = current(account), requested(t.filing.fields)
    platform = wanted.get("platform", account.platform)
    external_id = wanted.get("external_id", account.external_id)
    moves = "platform" in wanted or "external_id" in wanted
    if moves and external_id:
        lock_account_id(uow.session, platform, external_id)  # as a 登记 of that ID would
    taken = moves and uow.session.scalar(
        select(Account.id).where(Account.platform == platform, Account.external_id == external_id,
                                 Account.id != account.id)) is not None
    if taken:
        wanted = {k: val for k, val in wanted.items() if k not in ("platform", "external_id")}
    details = dict(account.details)
    for attr, value in wanted.items():
        if attr in ("leader", "admins"):
            details[attr] = value
        else:
            setattr(account, attr, value)
    if "admins" in wanted:
        account.admin_userids = [p["userid"] for p in wanted["admins"] if p.get("userid")]
    account.details = details
    account.updated_at = uow.clock.now()
    audit(uow, t.filing, "account:change", {k: before[k] for k in wanted}, wanted)
    t.told["changes"] = changes(uow.session, t.filing, t.kind.form)
    t.told["id_taken"] = bool(taken)


def start_closing(uow, t: Transition) -> None:
    """注销 approved by the office: the account is 注销中 until its keepers confirm it is gone."""
    set_account_status(uow, t.filing, AccountStatus.CLOSING)


def close_account(uow, t: Transition) -> None:
    """A 注销 confirmed (closed on the day of the confirmation, until its keeper gives the
    day), or a new account that cannot be built: the account is closed."""
    set_account_status(uow, t.filing, AccountStatus.CLOSED)
    account = account_of(uow, t.filing)
    if t.choice.asks_date and account is not None:
        set_closed_on(uow, t.filing, account, uow.clock.local_now().date())


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


def open_rectification(uow, t: Transition) -> None:
    """限期整改: the 年检 must be put right by a day (30 days unless the office gives one)."""
    set_due(uow, t.filing, t.due_on or default_due(uow))
    t.told["due_on"] = t.filing.due_on


def close_rectification(uow, t: Transition) -> None:
    """年检 合格: a rectification it was sent back for is done, its deadline no longer runs."""
    close_case(uow, t.filing)


def order_closure(uow, t: Transition) -> None:
    """Art. 7: a failed audit orders the account closed, by a day (30 days unless the office
    gives one), and opens a 注销 case to track."""
    filing = t.filing
    set_account_status(uow, filing, AccountStatus.ORDERED_CLOSED)
    case = Filing(kind="close", account_id=filing.account_id, department_id=filing.department_id,
                  submitter=uow.actor.userid, status=FilingStatus.ORDERED,
                  fields={"account": filing.fields["account"],
                          "reason": f"{filing.fields['year']} 年度检查不合格，责令注销",
                          "decision": t.decision.id},
                  created_at=uow.clock.now(), updated_at=uow.clock.now())
    uow.session.add(case)
    uow.session.flush()
    audit(uow, case, "close:ordered", {}, {"status": FilingStatus.ORDERED})
    set_due(uow, case, t.due_on or default_due(uow))
    t.told["due_on"] = case.due_on
    heads = department_heads(uow.session, filing.department_id)
    uow.tell(sorted({*heads, filing.submitter}), "approval/ordered_closed", filing=filing,
             case=case)


def copy_publicity(uow, t: Transition) -> None:
    """宣传部 gets a copy of approved filings, a 合格 年检 included (SPEC §5.5)."""
    publicity = [u for u in holders(uow.session, "publicity") if u != t.filing.submitter]
    if publicity:
        uow.tell(publicity, "approval/publicity_copy", filing=t.filing, form=t.kind.form,
                 account=account_of(uow, t.filing), decider=uow.actor.name, choice=t.choice,
                 changes=t.told.get("changes", []))


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
