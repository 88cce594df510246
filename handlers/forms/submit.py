"""Turning a confirmed conversation into a Filing waiting for approval, with its audit entry."""

from __future__ import annotations

from sqlalchemy import select

from bot.roles import department_heads
from handlers.approval import routing
from models import Account, AuditLog, Filing


def submit(ctx, form, conv) -> Filing:
    """Create the filing (status awaiting_dept, or awaiting_office when the submitter heads the
    department, or awaiting_tech for a 举报) and append 'submit' to the audit log."""
    fields = {k: val for k, val in conv.answers.items() if not k.startswith("_")}
    department_id = conv.answers.get("_dept")
    account_id = fields["account"]["id"] if isinstance(fields.get("account"), dict) else None
    if form.kind == "report":
        status = "awaiting_tech"
        fields["suspected"] = impersonation_suspected(ctx, fields)
    elif ctx.userid in department_heads(ctx.session, department_id):
        status = "awaiting_office"  # the head's own filing needs no sign-off from themself
    else:
        status = "awaiting_dept"
    now = ctx.clock.now()
    filing = Filing(kind=form.kind, account_id=account_id, department_id=department_id,
                    submitter=ctx.userid, fields=fields, status=status, created_at=now,
                    updated_at=now)
    ctx.session.add(filing)
    ctx.session.flush()
    ctx.session.add(AuditLog(at=now, actor=ctx.userid, action="submit", filing_id=filing.id,
                             account_id=account_id, before={}, after={"status": status}))
    routing.route(ctx, filing)
    return filing


def impersonation_suspected(ctx, fields: dict) -> bool:
    """Art. 2/14: a name carrying the school's name that is not in the registry."""
    name = fields.get("name", "")
    if not any(school in name for school in ctx.settings.school_names):
        return False
    registered = ctx.session.scalar(select(Account.id).where(
        Account.name == name, Account.status.in_(("active", "pending"))))
    return registered is None
