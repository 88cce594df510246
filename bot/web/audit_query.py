"""The audit log as /audit reads it: filters from the query string, one page of entries.

Kept apart from the view so the workflow layer can take it over (STYLE: queries live there)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select

from bot.clock import SHANGHAI
from models import AuditLog, User

PER_PAGE = 50


@dataclass(frozen=True)
class AuditFilter:
    """What to show: a filing, an account, a person (userid or name), Beijing dates."""

    filing_id: int | None = None
    account_id: int | None = None
    person: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1


@dataclass
class AuditPage:
    entries: list = field(default_factory=list)  # (AuditLog, actor name or None)
    total: int = 0
    page: int = 1
    pages: int = 1


def parse_filter(args) -> tuple[AuditFilter, list[str]]:
    """An AuditFilter from request args, and the keys of the fields that were not understood."""
    problems: list[str] = []

    def number(name):
        text = (args.get(name) or "").strip().lstrip("#")
        if not text:
            return None
        if text.isdigit() and len(text) <= 18:
            return int(text)
        problems.append(name)
        return None

    def day(name):
        text = (args.get(name) or "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            problems.append(name)
            return None

    filing_id, account_id = number("filing"), number("account")
    since, until = day("since"), day("until")
    if since and until and since > until:
        problems.append("range")
    page_text = (args.get("page") or "1").strip()
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 10**6 else 1
    person = (args.get("person") or "").strip()[:64]
    return AuditFilter(filing_id, account_id, person, since, until, page), problems


def conditions(flt: AuditFilter) -> list:
    """The WHERE conditions of a filter (the page and its .xlsx, workflow.ledger.export,
    share them)."""
    found = []
    if flt.filing_id is not None:
        found.append(AuditLog.filing_id == flt.filing_id)
    if flt.account_id is not None:
        found.append(AuditLog.account_id == flt.account_id)
    if flt.person:
        named = select(User.userid).where(User.name == flt.person)
        found.append(or_(AuditLog.actor == flt.person, AuditLog.actor.in_(named)))
    if flt.since:
        found.append(AuditLog.at >= _midnight(flt.since))
    if flt.until:
        found.append(AuditLog.at < _midnight(flt.until + timedelta(days=1)))
    return found


def search(db, flt: AuditFilter, per_page: int = PER_PAGE) -> AuditPage:
    """One page of entries, newest first, with the actor's name where the directory knows it."""
    query = select(AuditLog, User.name).outerjoin(User, User.userid == AuditLog.actor)
    where = conditions(flt)
    total = db.scalar(select(func.count()).select_from(AuditLog).where(*where))
    pages = max(1, math.ceil(total / per_page))
    page = min(flt.page, pages)
    rows = db.execute(query.where(*where).order_by(AuditLog.at.desc(), AuditLog.id.desc())
                      .limit(per_page).offset((page - 1) * per_page)).all()
    return AuditPage(entries=[(entry, name) for entry, name in rows], total=total, page=page,
                     pages=pages)


def _midnight(day: date) -> datetime:
    """00:00 of `day` in Beijing, as an aware datetime."""
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)
