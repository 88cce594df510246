"""查询/我的: the department's accounts and open filings, a phone screen at a time (更多)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db import claim_row
from bot.directory import departments_of
from handlers.forms.catalog import FORMS
from handlers.forms.validators import PLATFORM_NAMES
from models import Account, Filing, KeyValue

PAGE = 8
OPEN = ("awaiting_dept", "awaiting_office", "awaiting_tech", "awaiting_build", "ordered")


def register(router) -> None:
    router.command("查询", "我的", "query")(show_first_page)
    router.command("更多", "more")(show_next_page)


def show_first_page(ctx) -> None:
    """List the user's departments' accounts, then their open filings, from the top;
    `查询 <编号>` shows one filing's history instead."""
    reference = ctx.text.split(None, 1)[1].strip().lstrip("#") if len(ctx.text.split()) > 1 else ""
    if reference.isdigit():
        from handlers.approval.commands import history
        return history(ctx, int(reference))
    if reference:
        return account_history(ctx, reference)
    show_page(ctx, 0)


def account_history(ctx, reference: str) -> None:
    """查询 <备案编号 or account name>: an account, its filings and what happened to it."""
    from handlers.approval.commands import can_see_account
    from models import AuditLog, User

    account = ctx.session.scalar(select(Account).where(
        (Account.filing_no == reference.upper()) | (Account.name == reference)).limit(1))
    if account is None or not can_see_account(ctx, account):
        ctx.reply("query/account_not_found", reference=reference[:30])
        return
    entries = ctx.session.scalars(select(AuditLog).where(AuditLog.account_id == account.id)
                                  .order_by(AuditLog.id)).all()
    filings = ctx.session.scalars(select(Filing).where(Filing.account_id == account.id)
                                  .order_by(Filing.id)).all()
    names = {u.userid: u.name for u in ctx.session.scalars(
        select(User).where(User.userid.in_({e.actor for e in entries})))}
    ctx.reply("query/account", account=account, entries=entries, filings=filings, names=names,
              forms=FORMS, status=STATUS, platforms=PLATFORM_NAMES, delta=timedelta(hours=8))


def show_next_page(ctx) -> None:
    """Continue the last listing where the previous page ended."""
    row = ctx.session.get(KeyValue, page_key(ctx.userid))
    if row is None or row.value == "end":
        ctx.reply("query/no_more")
        return
    show_page(ctx, int(row.value))


def page_key(userid: str) -> str:
    return f"query-offset:{userid}"


def listing(ctx) -> tuple[list[str], list[str]]:
    """All lines of the listing: accounts, then open filings."""
    dept_ids = [d.id for d in departments_of(ctx.session, ctx.userid)]
    accounts = ctx.session.scalars(select(Account).where(Account.department_id.in_(dept_ids))
                                   .order_by(Account.department_id, Account.id)).all()
    filings = ctx.session.scalars(select(Filing).where(
        Filing.department_id.in_(dept_ids), Filing.status.in_(OPEN)).order_by(Filing.id)).all()
    account_lines = [
        f"{a.name}｜{PLATFORM_NAMES.get(a.platform, a.platform)}｜{a.filing_no or '未编号'}｜"
        f"{STATUS.get(a.status, a.status)}｜年检：{a.last_review_year or '无'}"
        for a in accounts]
    filing_lines = [
        f"#{f.id} {FORMS[f.kind].command}｜"
        f"{f.fields.get('name') or (f.fields.get('account') or {}).get('name', '')}｜"
        f"{STATUS.get(f.status, f.status)}"
        for f in filings]
    return account_lines, filing_lines


STATUS = {"pending": "待开通", "active": "正常", "closed": "已注销", "ordered_closed": "责令注销",
          "awaiting_dept": "待部门确认", "awaiting_office": "待党政办审核",
          "awaiting_tech": "待技术中心处理", "awaiting_build": "待开通", "ordered": "责令注销中"}


def show_page(ctx, offset: int) -> None:
    account_lines, filing_lines = listing(ctx)
    lines = ([("account", line) for line in account_lines]
             + [("filing", line) for line in filing_lines])
    page = lines[offset:offset + PAGE]
    more = offset + PAGE < len(lines)
    row = claim_row(ctx.session, KeyValue, key=page_key(ctx.userid), value="0")
    row.value = str(offset + PAGE) if more else "end"
    ctx.reply("query/page", page=page, offset=offset, total=len(lines), more=more,
              accounts=len(account_lines), filings=len(filing_lines))
