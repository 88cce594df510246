"""Turning a confirmed conversation into a Filing waiting for approval, with its audit entry."""

from __future__ import annotations

from sqlalchemy import select

from bot.roles import department_heads
from handlers.approval import routing
from handlers.forms.spec import FormSpec
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
    filing = returned_filing(ctx, form.kind, department_id, fields)
    if filing is not None:  # 退回 / 限期整改: the same filing is reopened, its history kept
        before = filing.status
        filing.fields, filing.status, filing.submitter = fields, status, ctx.userid
        filing.version, filing.updated_at = filing.version + 1, now
        action = "resubmit"
    else:
        before = None
        filing = Filing(kind=form.kind, account_id=account_id, department_id=department_id,
                        submitter=ctx.userid, fields=fields, status=status, created_at=now,
                        updated_at=now)
        ctx.session.add(filing)
        action = "submit"
    ctx.session.flush()
    ctx.session.add(AuditLog(at=now, actor=ctx.userid, action=action, filing_id=filing.id,
                             account_id=account_id, before={"status": before} if before else {},
                             after={"status": status}))
    routing.route(ctx, filing)
    return filing


def identity(kind: str, fields: dict):
    """What makes two filings of a kind the same matter (None: never the same)."""
    account = (fields.get("account") or {}).get("id")
    return {
        "register": (fields.get("platform"), fields.get("external_id")),
        "apply": (fields.get("platform"), fields.get("name")),
        "annual": (account, fields.get("year")),
        "change": (account,),
        "close": (account,),
    }.get(kind)


def returned_filing(ctx, kind: str, department_id, fields: dict) -> Filing | None:
    """A filing of the department sent back (退回, 限期整改) for the same matter."""
    wanted = identity(kind, fields)
    if wanted is None:
        return None
    for filing in ctx.session.scalars(select(Filing).where(
            Filing.kind == kind, Filing.department_id == department_id,
            Filing.status == "returned").order_by(Filing.id.desc())):
        if identity(kind, filing.fields) == wanted:
            return filing
    return None


def impersonation_suspected(ctx, fields: dict) -> bool:
    """Art. 2/14: a name carrying the school's name that is not in the registry."""
    name = fields.get("name", "")
    if not any(school in name for school in ctx.settings.school_names):
        return False
    registered = ctx.session.scalar(select(Account.id).where(
        Account.name == name, Account.status.in_(("active", "pending"))))
    return registered is None


def submit_problem(form: FormSpec, answers: dict) -> str | None:
    """A cross-field rule the summary must satisfy before submitting (None when fine)."""
    if form.kind == "change" and "new_leader" not in answers and "new_admins" not in answers:
        return "新负责人和新管理员至少需要填写一项，请发送“修改 新负责人”或“修改 新管理员”。"
    return None
