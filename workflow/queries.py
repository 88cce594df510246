"""Reading the registry, with the permissions of workflow.access built in. Each query returns
plain data (dataclasses of rows and labels) that chat templates and web pages both render;
`None` means "not there, or not for you" (a page answers 404, the chat "not found")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, case, cast, false, func, or_, select

from models import (
    Account,
    AccountStatus,
    AuditLog,
    Decision,
    Department,
    Filing,
    FilingStatus,
    User,
)
from workflow.access import Viewer, account_clause, can_see_account, can_see_filing, filing_clause
from workflow.changes import field_text
from workflow.kinds import KINDS, Choice, Kind, Stage, kind_of, stage_named
from workflow.routing import approvers

PAGE_SIZE = 20


@dataclass(frozen=True)
class Page:
    """One page of a listing."""

    items: list
    total: int
    page: int  # 1-based
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def names_of(session, userids) -> dict[str, str]:
    """Display names of directory members (userid when unknown), in the order given."""
    userids = list(dict.fromkeys(u for u in userids if u))  # a set's order varies per run
    found = dict(session.execute(select(User.userid, User.name)
                                 .where(User.userid.in_(userids))).all()) if userids else {}
    return {u: found.get(u, u) for u in userids}


# --- one filing -----------------------------------------------------------------------------
@dataclass(frozen=True)
class DecisionRow:
    stage: str  # the stage's title
    choice: str  # what was decided (已批准, 限期整改 …)
    decider: str  # name
    reason: str
    at: datetime


@dataclass(frozen=True)
class FilingDetail:
    """A filing as its form defines it, its account, people, decisions and audit trail."""

    filing: Filing
    kind: Kind
    rows: list[tuple[str, str]]  # (label, shown value) for every field of the form
    account: Account | None
    submitter: str  # name
    department: str
    decisions: list[DecisionRow]
    entries: list[AuditLog]
    names: dict[str, str]  # userid → name, for the audit entries
    stage: Stage | None  # where it waits (None when nobody has to decide)
    choices: tuple[Choice, ...] = ()  # what the viewer may decide now (empty: nothing)
    state: str = ""  # its status, or the stage:choice that settled it (office:pass → 合格)
    changes: tuple[Change, ...] = ()  # the audit trail, each entry with what it changed
    warnings: tuple[str, ...] = ()  # what the deciders are warned of (namesakes, impersonation)


def filing_detail(session, v: Viewer, filing_id: int) -> FilingDetail | None:
    """Everything about a filing the viewer may see (None when not found or not theirs)."""
    filing = session.get(Filing, filing_id) if 0 < filing_id < 2**31 else None
    if filing is None or not can_see_filing(v, filing):
        return None
    kind = kind_of(filing)
    rows = [(f.label, field_text(session, filing, kind.form, f)) for f in kind.form.fields
            if f.name in filing.fields or not f.optional]
    decisions = session.scalars(select(Decision).where(Decision.filing_id == filing.id)
                                .order_by(Decision.id)).all()
    entries = session.scalars(select(AuditLog).where(AuditLog.filing_id == filing.id)
                              .order_by(AuditLog.id)).all()
    names = names_of(session, [filing.submitter, *(d.decider for d in decisions),
                               *(e.actor for e in entries)])
    department = session.get(Department, filing.department_id) if filing.department_id else None
    stage = kind.stage_at(filing.status)
    may_decide = stage is not None and v.userid in approvers(session, filing, stage)
    return FilingDetail(
        filing=filing, kind=kind, rows=rows,
        account=session.get(Account, filing.account_id) if filing.account_id else None,
        submitter=names[filing.submitter], department=department.name if department else "",
        decisions=[decision_row(filing, d, names) for d in decisions], entries=list(entries),
        names=names, stage=stage, choices=stage.choices if may_decide else (),
        state=states_of(session, [filing])[filing.id], changes=tuple(changes(entries)),
        warnings=filing_warnings(filing))


def filing_warnings(filing: Filing) -> tuple[str, ...]:
    """What submit found and the card's subtitle shows: a suspected impersonation (举报), the
    platform's accounts of the same name (登记/申请)."""
    warnings = []
    if filing.fields.get("suspected"):
        warnings.append("名称含学校名称且不在备案台账中，疑似冒用")
    if namesakes := filing.fields.get("namesakes"):
        warnings.append("同平台已有同名账号：" + "；".join(namesakes))
    return tuple(warnings)


def decision_row(filing: Filing, d: Decision, names: dict[str, str]) -> DecisionRow:
    stage = stage_named(filing, d.stage)
    choice = stage.choice(d.outcome) if stage else None
    return DecisionRow(stage.title if stage else d.stage, choice.done_text if choice else d.outcome,
                       names.get(d.decider, d.decider), d.reason, d.decided_at)


# --- what changed ---------------------------------------------------------------------------
SETTLED = (FilingStatus.APPROVED, FilingStatus.REJECTED, FilingStatus.RETURNED, FilingStatus.DONE)


def outcome_names() -> dict[str, str]:
    """stage:choice → what a choice reads once taken (已批准, 合格, 限期整改 …), every kind."""
    return {f"{stage.name}:{choice.key}": choice.done_text for kind in KINDS.values()
            for stage in kind.stages for choice in stage.choices}


def states_of(session, filings) -> dict[int, str]:
    """Each filing's state: the stage:choice of the decision that settled it (a 年检 is
    合格, 限期整改 or 不合格, not just approved or returned), else its status."""
    settled = [f.id for f in filings if f.status in SETTLED]
    last = {}
    if settled:
        for filing_id, stage, outcome in session.execute(
                select(Decision.filing_id, Decision.stage, Decision.outcome)
                .where(Decision.filing_id.in_(settled)).order_by(Decision.id)).all():
            last[filing_id] = (stage, outcome)
    states = {}
    for filing in filings:
        state = str(filing.status)
        if filing.id in last:
            stage = stage_named(filing, last[filing.id][0])
            choice = stage.choice(last[filing.id][1]) if stage else None
            if choice is not None and choice.next_status == filing.status:
                state = f"{stage.name}:{choice.key}"
        states[filing.id] = state
    return states


@dataclass(frozen=True)
class Change:
    """An audit entry and what it changed: the state before and after — a filing's or an
    account's status, or for a decision its stage:choice (office:fix → 限期整改)."""

    entry: AuditLog
    before: str | None
    after: str | None


def changes(entries) -> list[Change]:
    """The audit trail, each entry with its before and after state; a filing a decision
    settled is in the state of that decision (限期整改), and the next entry starts from it."""
    decisions = outcome_names()
    last: dict[int, tuple[str, str]] = {}  # filing id → (status, state) after its latest entry
    found = []
    for entry in entries:
        before, after = (entry.before or {}).get("status"), (entry.after or {}).get("status")
        if entry.filing_id is not None and not entry.action.startswith("account:"):
            status, state = last.get(entry.filing_id, (None, None))
            if before is not None and before == status:
                before = state
            if after is not None:
                settled = entry.action in decisions and after in SETTLED
                last[entry.filing_id] = (after, entry.action if settled else after)
                after = last[entry.filing_id][1]
        found.append(Change(entry, before, after))
    return found


# --- lists of filings -----------------------------------------------------------------------
OPEN = (*FilingStatus.waiting_ones(), FilingStatus.ORDERED)  # still in progress
# Oldest first, for pages of waiting filings: submission time, then id. No index gives this
# order, on purpose: ordered by id alone, PostgreSQL walks the primary key from the oldest
# filing looking for the few waiting ones, the newest (workflow.waiting.waiting_page); an
# index on filing.created_at would bring that walk back.
OLDEST = (Filing.created_at, Filing.id)


@dataclass(frozen=True)
class FilingFilters:
    kind: str | None = None
    statuses: tuple[FilingStatus, ...] = ()
    department_id: int | None = None
    account_id: int | None = None
    department_ids: tuple[int, ...] | None = None  # any of these (None: no such filter)


def visible_filings(session, v: Viewer, filters: FilingFilters = FilingFilters(), page: int = 1,
                    size: int = PAGE_SIZE) -> Page:
    """The filings the viewer may see, newest first, filtered and paged in SQL."""
    return paged(session, filings_query(v, filters), Filing.id.desc(), page, size)


def waiting_filings(session, v: Viewer, page: int = 1, size: int = PAGE_SIZE,
                    mark=false()) -> tuple[Page, set[int]]:
    """The filings waiting for a decision that the viewer may see, the oldest first, paged;
    and the ids of those on the page that meet `mark` (an SQL condition: say, the viewer's
    own tasks, workflow.waiting.waiting_clause), read in the same statement.

    Counted over the whole set in that statement too, and ordered by submission time, as
    workflow.waiting.waiting_page is (see there): a province's few thousand waiting filings
    are read through their status index, not looked for by walking every filing in id order."""
    page = max(1, page)
    query = filings_query(v, FilingFilters(statuses=FilingStatus.waiting_ones()))
    rows = session.execute(query.add_columns(case((mark, 1), else_=0).label("marked"),
                                             func.count().over().label("total"))
                           .order_by(*OLDEST)
                           .offset((page - 1) * size).limit(size)).all()
    total = rows[0].total if rows else session.scalar(
        select(func.count()).select_from(query.subquery())) if page > 1 else 0
    return (Page([row[0] for row in rows], total, page, size),
            {row[0].id for row in rows if row.marked})


def filings_query(v: Viewer, filters: FilingFilters):
    """SQL for the filings the viewer may see, filtered (unordered)."""
    query = select(Filing).where(filing_clause(v))
    if filters.kind:
        query = query.where(Filing.kind == filters.kind)
    if filters.statuses:
        query = query.where(Filing.status.in_(filters.statuses))
    if filters.department_id is not None:
        query = query.where(Filing.department_id == filters.department_id)
    if filters.department_ids is not None:
        query = query.where(Filing.department_id.in_(filters.department_ids))
    if filters.account_id is not None:
        query = query.where(Filing.account_id == filters.account_id)
    return query


# --- the registry ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RegistryFilters:
    department_id: int | None = None
    platform: str | None = None
    status: AccountStatus | None = None
    text: str = ""  # name, ID, 备案编号, or a person's name
    department_ids: tuple[int, ...] | None = None  # any of these (None: no such filter)


def registry(session, v: Viewer, filters: RegistryFilters = RegistryFilters(), page: int = 1,
             size: int = PAGE_SIZE) -> Page:
    """The accounts the viewer may see, by department then id, filtered and paged in SQL."""
    return paged(session, registry_query(session, v, filters), (Account.department_id, Account.id),
                 page, size)


def registry_query(session, v: Viewer, filters: RegistryFilters):
    """SQL for the accounts the viewer may see, filtered (unordered)."""
    query = select(Account).where(account_clause(v))
    if filters.department_id is not None:
        query = query.where(Account.department_id == filters.department_id)
    if filters.department_ids is not None:
        query = query.where(Account.department_id.in_(filters.department_ids))
    if filters.platform:
        query = query.where(Account.platform == filters.platform)
    if filters.status:
        query = query.where(Account.status == filters.status)
    if filters.text:
        like = f"%{filters.text}%"
        # A person by name: their userids, as stored in the account's administrators.
        people = session.scalars(select(User.userid).where(User.name == filters.text)).all()
        admins = cast(Account.admin_userids, String)
        query = query.where(or_(
            Account.name.like(like), Account.external_id.like(like),
            func.coalesce(Account.filing_no, "").like(like.upper()),
            *(admins.like(f'%"{userid}"%') for userid in people)))
    return query


def find_account(session, v: Viewer, reference: str) -> Account | None:
    """An account by 备案编号 or exact name, if the viewer may see it."""
    account = session.scalar(select(Account).where(
        (Account.filing_no == reference.upper()) | (Account.name == reference)).limit(1))
    return account if account is not None and can_see_account(v, account) else None


@dataclass(frozen=True)
class AccountHistory:
    """An account, every filing that shaped it, and its audit trail."""

    account: Account
    department: str
    filings: list[Filing]
    entries: list[AuditLog]
    names: dict[str, str]
    people: list[dict] = field(default_factory=list)  # {"at", "leader", "admins"} over time
    states: dict[int, str] = field(default_factory=dict)  # filing id → state (states_of)
    changes: list[Change] = field(default_factory=list)  # the entries, with what they changed


def account_history(session, v: Viewer, account_id: int) -> AccountHistory | None:
    """The account with its filings and the 负责人/管理员 it had over time (None: not visible)."""
    account = session.get(Account, account_id) if 0 < account_id < 2**31 else None
    if account is None or not can_see_account(v, account):
        return None
    entries = session.scalars(select(AuditLog).where(AuditLog.account_id == account.id)
                              .order_by(AuditLog.id)).all()
    filings = session.scalars(select(Filing).where(Filing.account_id == account.id)
                              .order_by(Filing.id)).all()
    department = session.get(Department, account.department_id)
    return AccountHistory(account, department.name if department else "", list(filings),
                          list(entries), names_of(session, [e.actor for e in entries]),
                          people_over_time(account, entries), states_of(session, filings),
                          changes(entries))


PEOPLE = ("leader", "admins")


def people_over_time(account: Account, entries) -> list[dict]:
    """The 负责人/管理员 the account had, from its first day: {"at", "leader", "admins"}.

    The first pair is today's undone by each 变更's `before`, so an account registered
    before the bot (seed-main, an import) has its first pair too."""
    details = account.details or {}
    starts = [i for i, e in enumerate(entries) if e.action in ("account:create", "account:reopen")]
    entries = entries[starts[-1]:] if starts else list(entries)  # a reopened account starts anew
    changed = [e for e in entries if e.action == "account:change"
               and any(k in (e.after or {}) for k in PEOPLE)]
    state = {k: details.get(k) for k in PEOPLE}
    for entry in reversed(changed):
        state |= {k: entry.before[k] for k in PEOPLE if k in (entry.before or {})}
    created = entries[0].at if starts else account.created_at
    people = [{"at": created, **state}]
    for entry in changed:
        state = state | {k: entry.after[k] for k in PEOPLE if k in entry.after}
        people.append({"at": entry.at, **state})
    return people if any(p["leader"] or p["admins"] for p in people) else []


def paged(session, query, order, page: int, size: int) -> Page:
    """Run `query` for one page, with the total count."""
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    order = order if isinstance(order, tuple) else (order,)
    items = session.scalars(query.order_by(*order).offset((page - 1) * size).limit(size)).all()
    return Page(list(items), total, page, size)
