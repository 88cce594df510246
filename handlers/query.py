"""查询/我的: the department's accounts and open filings, a phone screen at a time (更多);
查询 <编号> one filing, 查询 <备案编号 or name> one account (workflow.queries)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.sql import claim_row
from models import Account, Filing, FilingStatus, KeyValue
from workflow.access import viewer
from workflow.forms.validators import PLATFORM_NAMES
from workflow.kinds import FORMS
from workflow.queries import account_history, filing_detail, find_account
from workflow.roles import departments_of

PAGE = 8
OPEN = (*FilingStatus.waiting_ones(), FilingStatus.ORDERED)
BEIJING = timedelta(hours=8)  # audit times are UTC; the school reads Beijing time


def register(router) -> None:
    router.command("查询", "我的", "query")(show_first_page)
    router.command("更多", "more")(show_next_page)


def show_first_page(ctx) -> None:
    """List the user's departments' accounts, then their open filings, from the top;
    `查询 <编号>` shows one filing's history instead."""
    reference = ctx.text.split(None, 1)[1].strip().lstrip("#") if len(ctx.text.split()) > 1 else ""
    if reference.isdigit():
        return show_filing(ctx, int(reference))
    if reference:
        return show_account(ctx, reference)
    show_page(ctx, 0)


def show_filing(ctx, filing_id: int) -> None:
    """查询 <编号>: a filing, its decisions and its audit trail."""
    detail = filing_detail(ctx.session, viewer(ctx.session, ctx.userid), filing_id)
    if detail is None:
        ctx.reply("approval/not_found")
        return
    ctx.reply("approval/history", filing=detail.filing, form=detail.kind.form,
              entries=detail.entries, names=detail.names,
              reasons=[d for d in detail.decisions if d.reason], delta=BEIJING)


def show_account(ctx, reference: str) -> None:
    """查询 <备案编号 or account name>: an account, its filings and what happened to it."""
    me = viewer(ctx.session, ctx.userid)
    account = find_account(ctx.session, me, reference)
    history = account_history(ctx.session, me, account.id) if account else None
    if history is None:
        ctx.reply("query/account_not_found", reference=reference[:30])
        return
    ctx.reply("query/account", account=history.account, entries=history.entries,
              filings=history.filings, names=history.names, forms=FORMS, people=history.people,
              platforms=PLATFORM_NAMES, delta=BEIJING)


def show_next_page(ctx) -> None:
    """Continue the last listing where the previous page ended."""
    row = ctx.session.get(KeyValue, page_key(ctx.userid))
    if row is None or row.value == "end":
        ctx.reply("query/no_more")
        return
    show_page(ctx, int(row.value))


def page_key(userid: str) -> str:
    return f"query-offset:{userid}"


def listing(ctx) -> tuple[list[Account], list[Filing]]:
    """Everything the listing shows: the departments' accounts, then their open filings."""
    dept_ids = [d.id for d in departments_of(ctx.session, ctx.userid)]
    accounts = ctx.session.scalars(select(Account).where(Account.department_id.in_(dept_ids))
                                   .order_by(Account.department_id, Account.id)).all()
    filings = ctx.session.scalars(select(Filing).where(
        Filing.department_id.in_(dept_ids), Filing.status.in_(OPEN)).order_by(Filing.id)).all()
    return list(accounts), list(filings)


def show_page(ctx, offset: int) -> None:
    accounts, filings = listing(ctx)
    lines = [("account", a) for a in accounts] + [("filing", f) for f in filings]
    page = lines[offset:offset + PAGE]
    more = offset + PAGE < len(lines)
    row = claim_row(ctx.session, KeyValue, key=page_key(ctx.userid), value="0")
    row.value = str(offset + PAGE) if more else "end"
    ctx.reply("query/page", page=page, offset=offset, total=len(lines), more=more,
              accounts=len(accounts), filings=len(filings), platforms=PLATFORM_NAMES, forms=FORMS)
