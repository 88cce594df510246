"""What `查询 <words>` names, and a chat listing a screen at a time (SPEC §8; issue 14 item 13).

Everyone may name an account by 备案编号 or name; those who see everything (office, publicity,
admin: workflow.access) may also name a department (查询 文法学院), a platform (查询 微博),
`待审` (every filing waiting for a decision), or any text the registry matches (a person's name).
Everything listed goes through workflow.queries, so nobody lists what they may not see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from models import Account, Department, Filing, FilingStatus
from workflow.access import Viewer
from workflow.forms import validators
from workflow.queries import (
    OPEN,
    FilingFilters,
    RegistryFilters,
    filings_query,
    find_account,
    registry_query,
)

WAITING_WORDS = ("待审", "待审批", "待处理", "审核中")


@dataclass(frozen=True)
class Listing:
    """Accounts, then filings, named by a 查询: whose, and the filters that select them."""

    what: str  # mine | department | waiting | platform | search
    name: str = ""  # the department's or platform's name, or the text searched
    accounts: RegistryFilters | None = None  # None: no accounts in this listing
    filings: FilingFilters | None = None  # None: no filings in this listing


@dataclass(frozen=True)
class ListingPage:
    """One screen of a listing: ("account", Account) and ("filing", Filing) items."""

    items: list[tuple[str, object]]
    offset: int
    accounts: int  # how many accounts the whole listing has
    filings: int  # how many filings
    departments: dict[int, str]  # department id → name, for the items shown

    @property
    def total(self) -> int:
        return self.accounts + self.filings

    @property
    def more(self) -> bool:
        return self.offset + len(self.items) < self.total


def mine(v: Viewer) -> Listing:
    """`查询` alone: the viewer's departments' accounts and their filings in progress."""
    return Listing("mine", accounts=RegistryFilters(department_ids=v.departments),
                   filings=FilingFilters(statuses=OPEN, department_ids=v.departments))


def find(session, v: Viewer, words: str) -> Account | Listing | None:
    """What `查询 <words>` names for the viewer: an account, a listing, or nothing they see."""
    words = words.strip()
    account = find_account(session, v, words)
    if account is not None and account.filing_no == words.upper():
        return account  # a 备案编号 names one account, whoever asks
    listing = school_wide(session, words) if v.sees_everything else None
    if listing is not None or account is not None:
        return listing or account
    if v.sees_everything and words:  # a name, an ID or a person the registry knows
        text = RegistryFilters(text=words[:50])
        if session.scalar(select(func.count()).select_from(
                registry_query(session, v, text).subquery())):
            return Listing("search", words[:50], accounts=text)
    return None


def school_wide(session, words: str) -> Listing | None:
    """A department, 待审 or a platform, named by someone who sees the whole registry."""
    if words in WAITING_WORDS:
        return Listing("waiting", filings=FilingFilters(statuses=FilingStatus.waiting_ones()))
    department = session.scalar(select(Department).where(Department.name == words).limit(1))
    if department is not None:
        return Listing("department", department.name,
                       accounts=RegistryFilters(department_id=department.id),
                       filings=FilingFilters(statuses=OPEN, department_id=department.id))
    if words and not words.isdigit():  # 1-10 pick a platform in a form, not here
        try:
            code = validators.platform(words)
        except validators.Invalid:
            return None
        return Listing("platform", validators.PLATFORM_NAMES[code],
                       accounts=RegistryFilters(platform=code))
    return None


def listing_page(session, v: Viewer, listing: Listing, offset: int, size: int) -> ListingPage:
    """The accounts, then the filings, of `listing` from `offset` on: at most `size` items."""
    offset = max(0, offset)
    accounts = registry_query(session, v, listing.accounts) if listing.accounts else None
    filings = filings_query(v, listing.filings) if listing.filings else None
    counts = [session.scalar(select(func.count()).select_from(q.subquery())) if q is not None
              else 0 for q in (accounts, filings)]
    items = []
    if accounts is not None and offset < counts[0]:
        items += [("account", a) for a in session.scalars(
            accounts.order_by(Account.department_id, Account.id).offset(offset).limit(size))]
    if filings is not None and len(items) < size:
        start = max(0, offset - counts[0])
        items += [("filing", f) for f in session.scalars(
            filings.order_by(Filing.id).offset(start).limit(size - len(items)))]
    ids = {item.department_id for _, item in items if item.department_id is not None}
    departments = dict(session.execute(select(Department.id, Department.name)
                                       .where(Department.id.in_(ids))).all()) if ids else {}
    return ListingPage(items, offset, *counts, departments)
