"""One account ID, one registration (issue #11 item 2): a 登记 is checked again when it is
confirmed and when it is finally approved, in the same transaction as the change and under a lock
on the ID, so two people confirming the same 账号ID — even at the same instant — cannot both get
through, and a collision found at approval closes the filing as 重复 instead of leaving it stuck."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.sql import lock_name
from models import Account, AccountStatus, Department
from workflow.forms import validators as v
from workflow.forms.accounts import check_not_registered

# Accounts whose names are taken: in the registry and not closed.
NAMED = (AccountStatus.ACTIVE, AccountStatus.PENDING, AccountStatus.CLOSING)
NAMED_KINDS = ("register", "apply")  # the forms that bring a new name to the registry


@dataclass(frozen=True)
class Namesake:
    """An account in the registry with the name a form asks for, on the same platform."""

    name: str
    filing_no: str
    department: str

    def __str__(self) -> str:
        return f"{self.name}（{self.filing_no}，{self.department}）"


def lock_account_id(session, platform: str, external_id: str) -> None:
    """Serialize every transaction that registers this platform ID."""
    lock_name(session, f"account-id:{platform}:{external_id}")


def check_at_submit(session, kind_name: str, fields: dict, excluding: int | None = None,
                    pending: bool = True) -> None:
    """Raise v.Invalid (duplicate_account / duplicate_pending) when the ID is taken."""
    if kind_name != "register" or not fields.get("external_id"):
        return
    lock_account_id(session, fields["platform"], fields["external_id"])
    check_not_registered(session, fields["platform"], fields["external_id"], excluding, pending)


def registration_guard(uow, filing) -> v.Invalid | None:
    """At final approval: the filing's ID may have been registered since it was confirmed
    (the first of two filings approved wins)."""
    try:
        check_at_submit(uow.session, filing.kind, filing.fields, excluding=filing.id,
                        pending=False)
    except v.Invalid as taken:
        return taken
    return None


def namesakes(session, kind_name: str, fields: dict) -> list[Namesake]:
    """Issue #10 item 12: a 申请 (or 登记) whose name the platform already has in the registry.
    Not refused — two platforms' accounts, or an account renamed since, may share a name — but
    flagged to the filer on the summary and to the deciders on the card."""
    platform, name = fields.get("platform"), (fields.get("name") or "").strip()
    if kind_name not in NAMED_KINDS or not platform or not name:
        return []
    query = (select(Account.name, Account.filing_no, Department.name.label("department"))
             .outerjoin(Department, Department.id == Account.department_id)
             .where(Account.platform == platform, Account.name == name,
                    Account.status.in_(NAMED))
             .order_by(Account.id).limit(3))
    return [Namesake(r.name, r.filing_no or "尚无备案编号", r.department or "")
            for r in session.execute(query)]


def lacks_school_name(settings, kind_name: str, fields: dict) -> bool:
    """Art. 2: accounts carrying the school's name (or its short name) are official accounts; a
    name without any of SCHOOL_NAMES is asked about gently before it is filed."""
    name = fields.get("name") or ""
    return kind_name in NAMED_KINDS and bool(name) and bool(settings.school_names) \
        and not any(school in name for school in settings.school_names)
