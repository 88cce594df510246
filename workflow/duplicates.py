"""One account ID, one registration (issue #11 item 2): a 登记 is checked again when it is
confirmed and when it is finally approved, in the same transaction as the change and under a lock
on the ID, so two people confirming the same 账号ID — even at the same instant — cannot both get
through, and a collision found at approval closes the filing as 重复 instead of leaving it stuck."""

from __future__ import annotations

from bot.sql import lock_name
from workflow.forms import validators as v
from workflow.forms.accounts import check_not_registered


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
