"""变更 (art. 5): what a change filing replaces on its account, shown old → new.

    CHANGES: 新负责人 → details.leader, 新管理员 → details.admins (and admin_userids),
             新名称 → name, 新平台 → platform, 新账号ID → external_id (a renamed account)

Before the approval the old values are the account's current ones; afterwards they are read
from the audit entry the approval wrote (`account:change`), so an old filing still shows what
it changed from."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from models import Account, AuditLog
from workflow.forms import validators as v
from workflow.forms.answers import show
from workflow.forms.spec import Field

# (form field, account attribute, label) in the order they are shown
CHANGES: tuple[tuple[str, str, str], ...] = (
    ("new_leader", "leader", "负责人"), ("new_admins", "admins", "管理员"),
    ("new_name", "name", "名称"), ("new_platform", "platform", "平台"),
    ("new_external_id", "external_id", "账号ID"))
FIELD_ATTRS = {name: attr for name, attr, _label in CHANGES}
NOTHING = "—"


@dataclass(frozen=True)
class Change:
    """One thing a 变更 replaces: its label and both values as shown."""

    attr: str
    label: str
    old: str
    new: str

    @property
    def text(self) -> str:
        return f"{self.old} → {self.new}"


def current(account: Account) -> dict:
    """The account's values a 变更 may replace, by attribute."""
    details = account.details or {}
    return {"leader": details.get("leader"), "admins": details.get("admins"),
            "name": account.name, "platform": account.platform,
            "external_id": account.external_id}


def check_changed(session, form, answers: dict, field: Field, value) -> None:
    """A 变更's new value must differ from the account's current one (李明 → 李明 changes
    nothing); raises v.Invalid("unchanged") otherwise."""
    attr = FIELD_ATTRS.get(field.name)
    chosen = answers.get("account") if form.kind == "change" else None
    if attr is None or not isinstance(chosen, dict) or value in (None, "", []):
        return
    account = session.get(Account, chosen.get("id"))
    old = current(account).get(attr) if account is not None else None
    if old not in (None, "", []) and identity(old) == identity(value):
        raise v.Invalid("unchanged", label=field.label, value=show(field, old))


def identity(value):
    """What makes two values the same: people by userid (or name), a list as a set."""
    if isinstance(value, list):
        return frozenset(identity(item) for item in value)
    if isinstance(value, dict):
        return value.get("userid") or value.get("name")
    return value


def requested(fields: dict) -> dict:
    """What a 变更's answers ask to replace: {attribute: new value}."""
    return {attr: fields[name] for name, attr, _label in CHANGES
            if fields.get(name) not in (None, "", [])}


def applied(session, filing) -> AuditLog | None:
    """The audit entry the approval of a 变更 wrote (None before it is approved)."""
    return session.scalar(select(AuditLog).where(AuditLog.filing_id == filing.id,
                                                 AuditLog.action == "account:change")
                          .order_by(AuditLog.id.desc()).limit(1))


def before_of(session, filing) -> dict:
    """The old values: from the approval's audit entry once applied, else the account now."""
    entry = applied(session, filing)
    if entry is not None:
        return entry.before
    account = session.get(Account, filing.account_id) if filing.account_id else None
    return current(account) if account is not None else {}


def changes(session, filing, form) -> list[Change]:
    """The 变更's changes, old → new, in form order; once approved, what was applied."""
    entry = applied(session, filing)
    before = entry.before if entry is not None else before_of(session, filing)
    found = []
    for name, attr, label in CHANGES:
        value = filing.fields.get(name)
        if value in (None, "", []) or not has_field(form, name):
            continue
        if entry is not None and attr not in entry.after:
            continue  # refused when applied (the platform/ID pair was taken)
        field = form.field(name)
        found.append(Change(attr, label, shown(field, before.get(attr)), shown(field, value)))
    return found


def befores(session, filings) -> dict[int, dict]:
    """before_of for many filings at once, {filing id: old values} for the 变更 among them:
    their approvals' latest audit entries in one query, the accounts of those not approved
    in another (a run re-sending hundreds of cards asks two queries, not one per field)."""
    kind_change = [f for f in filings if f.kind == "change"]
    if not kind_change:
        return {}
    found = {}
    for filing_id, before in session.execute(
            select(AuditLog.filing_id, AuditLog.before)
            .where(AuditLog.filing_id.in_([f.id for f in kind_change]),
                   AuditLog.action == "account:change").order_by(AuditLog.id)):
        found[filing_id] = before  # the latest entry wins, as in `applied`
    pending = {f.account_id for f in kind_change if f.id not in found and f.account_id}
    accounts = {a.id: a for a in session.scalars(
        select(Account).where(Account.id.in_(pending)))} if pending else {}
    for filing in kind_change:
        if filing.id not in found:
            account = accounts.get(filing.account_id)
            found[filing.id] = current(account) if account is not None else {}
    return found


def field_text(session, filing, form, field: Field, before: dict | None = None) -> str:
    """A field of a filing as cards and listings show it: old → new for what a 变更 replaces
    (the old values `before` when read already, else before_of)."""
    value = filing.fields.get(field.name)
    if field.name in FIELD_ATTRS and filing.kind == "change" and value not in (None, "", []):
        old = (before if before is not None else before_of(session, filing)).get(
            FIELD_ATTRS[field.name])
        return f"{shown(field, old)} → {shown(field, value)}"
    return show(field, value)


def shown(field: Field, value) -> str:
    return NOTHING if value in (None, "", []) else show(field, value)


def has_field(form, name: str) -> bool:
    return any(f.name == name for f in form.fields)
