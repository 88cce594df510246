"""Accounts in form answers: the department's accounts by list number, filing number or
name, and the duplicates a filing must not repeat (an open 注销/变更, a registered account,
a second 年检 for the same year)."""

from __future__ import annotations

from sqlalchemy import or_, select

from bot.clock import SHANGHAI
from bot.render import render_text
from models import Account, AccountStatus, Filing, FilingStatus
from workflow.forms import validators as v
from workflow.forms.context import FormContext, NeedsChoice
from workflow.forms.spec import FormSpec

OPEN_STATUSES = FilingStatus.waiting_ones()
CHANGEABLE = (AccountStatus.ACTIVE, AccountStatus.ORDERED_CLOSED)  # may be changed or closed


def department_accounts(fc: FormContext) -> list[Account]:
    """The department's accounts that can still be changed, reviewed or closed."""
    return list(fc.session.scalars(
        select(Account).where(Account.department_id == fc.department_id,
                              Account.status.in_(CHANGEABLE))
        .order_by(Account.id)))


def read_account(text: str, fc: FormContext, form: FormSpec) -> dict:
    """An account of the department: by list number, filing number or name."""
    accounts = department_accounts(fc)
    chosen = None
    if not accounts:
        pass  # nothing to choose from: what the text names, if anything, is said below
    elif text.isdigit() and 1 <= int(text) <= len(accounts):
        chosen = accounts[int(text) - 1]
    else:
        upper = text.upper()
        chosen = next((a for a in accounts if (a.filing_no or "").upper() == upper), None)
        if chosen is None:
            named = ([a for a in accounts if a.name == text]
                     or [a for a in accounts if text in a.name])
            if len(named) > 1:
                raise NeedsChoice(render_text("forms/hint", code="several_accounts"),
                                  [(describe_account(a), account_value(a)) for a in named])
            chosen = named[0] if named else None
    if chosen is None:
        known = fc.session.scalar(select(Account).where(
            or_(Account.filing_no == text.upper(), Account.name == text)))
        if known is not None and known.department_id == fc.department_id:
            if known.status == AccountStatus.CLOSING:
                raise v.Invalid("account_closing", value=known.name)
            raise v.Invalid("account_closed", value=known.name)  # closed or not yet built
        if known is not None:
            raise v.Invalid("account_other_dept", value=text[:30])
        raise v.Invalid("account" if accounts else "no_accounts", value=text[:30])
    if form.kind in ("close", "change"):
        check_no_open(fc, chosen, form.kind)
    return account_value(chosen)


def check_no_open(fc: FormContext, account: Account, kind: str) -> None:
    """One open 注销 (or 变更) per account: a second is refused with the first one's number."""
    open_filing = fc.session.scalar(select(Filing.id).where(
        Filing.kind == kind, Filing.account_id == account.id,
        Filing.status.in_(OPEN_STATUSES)))  # an "ordered" case is completed by this very filing
    if open_filing is not None:
        raise v.Invalid("duplicate_open", name=account.name, number=f"#{open_filing}")


def account_value(account: Account) -> dict:
    return {"id": account.id, "name": account.name, "filing_no": account.filing_no,
            "platform": account.platform}


def describe_account(account: Account) -> str:
    return (f"{account.name}（{v.PLATFORM_NAMES.get(account.platform, account.platform)} · "
            f"{account.filing_no or '无备案编号'}）")


def account_start_year(fc: FormContext) -> int | None:
    """The year the chosen account came into existence: its 开通时间, or for an account the
    school applied for (art. 6), the year its 申请 was approved; None when unknown."""
    chosen = fc.answers.get("account")
    if not chosen:
        return None
    account = fc.session.get(Account, chosen["id"])
    if account is None:
        return None
    opened = (account.details or {}).get("opened")
    if opened:
        return int(opened[:4])
    applied = fc.session.scalar(select(Filing.id).where(
        Filing.kind == "apply", Filing.account_id == account.id).limit(1))
    return account.created_at.astimezone(SHANGHAI).year if applied else None


# --- duplicates ---------------------------------------------------------------------------
def check_not_registered(session, platform: str, external_id: str,
                         excluding: int | None = None, pending: bool = True) -> None:
    """登记 of an account already in the registry, or (`pending`) already waiting, is refused
    with its number (`excluding`: the filing being checked itself)."""
    account = session.scalar(select(Account).where(
        Account.platform == platform, Account.external_id == external_id,
        Account.status != AccountStatus.CLOSED))
    if account is not None:
        raise v.Invalid("duplicate_account", name=account.name,
                        number=account.filing_no or "尚无备案编号")
    if not pending:
        return
    filing = session.scalar(select(Filing).where(
        Filing.kind == "register", Filing.platform == platform,
        Filing.external_id == external_id, Filing.status.in_(OPEN_STATUSES),
        Filing.id != (excluding or 0)).order_by(Filing.id).limit(1))
    if filing is not None:
        raise v.Invalid("duplicate_pending", name=filing.fields.get("name", ""),
                        number=f"#{filing.id}")


def check_id_free(fc: FormContext, platform: str, external_id: str) -> None:
    """A 变更's new ID must not be another account's (closed ones keep theirs)."""
    chosen = fc.answers.get("account") or {}
    account = fc.session.scalar(select(Account).where(
        Account.platform == platform, Account.external_id == external_id,
        Account.id != chosen.get("id")))
    if account is not None:
        raise v.Invalid("id_taken", name=account.name, number=account.filing_no or "待编号")


def check_no_annual(fc: FormContext, year: int) -> None:
    """One 年检 per account and year, unless the earlier one was rejected or withdrawn."""
    chosen = fc.answers.get("account")
    if not chosen:
        return
    # returned, rejected or withdrawn ones may be filed again
    filing_id = fc.session.scalar(select(Filing.id).where(
        Filing.kind == "annual", Filing.year == year, Filing.account_id == chosen["id"],
        Filing.status.in_(OPEN_STATUSES + (FilingStatus.APPROVED, FilingStatus.DONE)))
        .order_by(Filing.id).limit(1))
    if filing_id is not None:
        raise v.Invalid("duplicate_annual", year=year, number=f"#{filing_id}")
