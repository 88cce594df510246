"""A confirmed form becomes a Filing waiting at its kind's first stage, audited and routed."""

from __future__ import annotations

from sqlalchemy import select

from models import Account, AccountStatus, AuditLog, Filing, FilingStatus
from workflow import duplicates
from workflow.changes import requested
from workflow.forms.validators import Invalid
from workflow.kinds import Kind
from workflow.roles import department_heads
from workflow.routing import route


def submit(uow, kind: Kind, department_id: int | None, fields: dict) -> Filing:
    """Create the filing at its first stage (a head's own filing skips their sign-off) — or
    reopen the same matter sent back (退回, 限期整改), its history kept — and route it.

    Raises v.Invalid when the account is registered or filed already (checked again here, under
    a lock, since the form read the ID)."""
    userid = uow.actor.userid
    duplicates.check_at_submit(uow.session, kind.name, fields)  # raises v.Invalid
    account_id = fields["account"]["id"] if isinstance(fields.get("account"), dict) else None
    if kind.name == "report":
        fields = {**fields, "suspected": impersonation_suspected(uow, fields)}
    if kind.name in duplicates.NAMED_KINDS:  # shown to the deciders on the card
        fields = {**fields, "namesakes": [str(n) for n in duplicates.namesakes(
            uow.session, kind.name, fields)]}
    heads = department_heads(uow.session, department_id) if department_id is not None else []
    status = kind.first_stage(submitter_heads_department=userid in heads).status
    now = uow.clock.now()
    filing = returned_filing(uow.session, kind, department_id, fields)
    if filing is not None:
        before = filing.status
        filing.fields, filing.status, filing.submitter = fields, status, userid
        filing.version, filing.updated_at = filing.version + 1, now
        action = "resubmit"
    else:
        before = None
        filing = Filing(kind=kind.name, account_id=account_id, department_id=department_id,
                        submitter=userid, fields=fields, status=status, created_at=now,
                        updated_at=now)
        uow.session.add(filing)
        action = "submit"
    uow.session.flush()
    uow.session.add(AuditLog(at=now, actor=userid, action=action, filing_id=filing.id,
                             account_id=account_id, before={"status": before} if before else {},
                             after={"status": status}))
    route(uow, filing)
    return filing


def matter(kind: Kind, fields: dict) -> tuple | None:
    """What makes two filings of a kind the same matter (None: never the same)."""
    if not kind.identity:
        return None
    return tuple(value["id"] if isinstance(value := fields.get(name), dict) else value
                 for name in kind.identity)


MATTER_COLUMNS = {"year": Filing.year, "platform": Filing.platform,
                  "external_id": Filing.external_id}  # answers copied to columns


def returned_filing(session, kind: Kind, department_id, fields: dict) -> Filing | None:
    """A filing of the department sent back (退回, 限期整改) for the same matter."""
    wanted = matter(kind, fields)
    if wanted is None:
        return None
    query = select(Filing).where(Filing.kind == kind.name, Filing.department_id == department_id,
                                 Filing.status == FilingStatus.RETURNED)
    # Narrowed in SQL by the identity fields that are columns; the rest compared here, among
    # the department's returned filings of the same account at most.
    for name, value in zip(kind.identity, wanted, strict=True):
        if name == "account":
            query = query.where(Filing.account_id == value)
        elif name in MATTER_COLUMNS:
            query = query.where(MATTER_COLUMNS[name] == value)
    for filing in session.scalars(query.order_by(Filing.id.desc())):
        if matter(kind, filing.fields) == wanted:
            return filing
    return None


def impersonation_suspected(uow, fields: dict) -> bool:
    """Art. 2/14: a name carrying the school's name that is not in the registry."""
    name = fields.get("name", "")
    if not any(school in name for school in uow.settings.school_names):
        return False
    registered = uow.session.scalar(select(Account.id).where(
        Account.name == name, Account.status.in_((AccountStatus.ACTIVE, AccountStatus.PENDING,
                                                  AccountStatus.CLOSING))))
    return registered is None


def submit_problem(kind: Kind, answers: dict) -> Invalid | None:
    """A cross-field rule the summary must satisfy before submitting (None when fine)."""
    if kind.name == "change" and not requested(answers):
        return Invalid("change_needs_someone")
    return None
