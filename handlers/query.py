"""查询/我的: the department's accounts and open filings, a phone screen at a time (更多);
查询 <编号> one filing, 查询 <备案编号 or name> one account; office, publicity and admin also
查询 <department | platform | 待审> (workflow.lookup)."""

from __future__ import annotations

import json
from datetime import timedelta

from bot import links
from bot.sql import claim_row
from handlers.approval.commands import text_commands
from models import Account, KeyValue
from workflow.access import viewer
from workflow.forms.validators import PLATFORM_NAMES
from workflow.kinds import FORMS
from workflow.lookup import Listing, find, listing_page, mine
from workflow.queries import account_history, filing_detail, outcome_names

PAGE = 8
BEIJING = timedelta(hours=8)  # audit times are UTC; the school reads Beijing time


def register(router) -> None:
    router.command("查询", "我的", "query")(show_first_page)
    router.command("更多", "more")(show_next_page)


def show_first_page(ctx) -> None:
    """`查询` lists the user's departments' accounts, then their open filings, from the top;
    `查询 <编号>` shows one filing, `查询 <备案编号 or name>` one account, and for those who
    see everything a department, a platform or 待审 (workflow.lookup.find)."""
    reference = ctx.text.split(None, 1)[1].strip().lstrip("#") if len(ctx.text.split()) > 1 else ""
    if reference.isdigit():
        return show_filing(ctx, int(reference))
    me = viewer(ctx.session, ctx.userid)
    found = find(ctx.session, me, reference) if reference else mine(me)
    if isinstance(found, Account):
        return show_account(ctx, me, found)
    if found is None:
        ctx.reply("query/account_not_found", reference=reference[:30],
                  everything=me.sees_everything)
        return
    show_page(ctx, me, found, reference, 0)


def show_filing(ctx, filing_id: int) -> None:
    """查询 <编号>: a filing's every field, its history and the reasons given; a decider is
    told how to decide it in text (同意 N)."""
    detail = filing_detail(ctx.session, viewer(ctx.session, ctx.userid), filing_id)
    if detail is None:
        ctx.reply("approval/not_found")
        return
    ctx.reply("approval/history", filing=detail.filing, form=detail.kind.form, rows=detail.rows,
              changes=detail.changes, names=detail.names, state=detail.state,
              outcomes=outcome_names(), reasons=[d for d in detail.decisions if d.reason],
              delta=BEIJING, commands=text_commands(detail.stage) if detail.choices else [],
              link=links.filing_url(ctx.settings, filing_id), warnings=detail.warnings)


def show_account(ctx, me, account: Account) -> None:
    """An account, its filings and what happened to it."""
    history = account_history(ctx.session, me, account.id)
    ctx.reply("query/account", account=history.account, changes=history.changes,
              filings=history.filings, states=history.states, outcomes=outcome_names(),
              names=history.names, forms=FORMS, people=history.people,
              platforms=PLATFORM_NAMES, delta=BEIJING)


def show_next_page(ctx) -> None:
    """Continue the last listing where the previous page ended."""
    row = ctx.session.get(KeyValue, page_key(ctx.userid))
    state = read_state(row.value) if row is not None else None
    if state is None:
        ctx.reply("query/no_more")
        return
    me = viewer(ctx.session, ctx.userid)
    found = find(ctx.session, me, state["q"]) if state["q"] else mine(me)
    if not isinstance(found, Listing):
        ctx.reply("query/no_more")
        return
    show_page(ctx, me, found, state["q"], state["next"])


def page_key(userid: str) -> str:
    return f"query-offset:{userid}"


def read_state(value: str) -> dict | None:
    """Where the last listing stopped: {"q": what was asked, "next": offset}; None at its end."""
    if value.isdigit():  # written before listings remembered what was asked
        return {"q": "", "next": int(value)}
    try:
        state = json.loads(value)
    except ValueError:
        return None
    return state if isinstance(state, dict) and state.get("next") is not None else None


def show_page(ctx, me, listing: Listing, asked: str, offset: int) -> None:
    page = listing_page(ctx.session, me, listing, offset, PAGE)
    row = claim_row(ctx.session, KeyValue, key=page_key(ctx.userid), value="")
    row.value = json.dumps({"q": asked, "next": offset + PAGE if page.more else None},
                           ensure_ascii=False)
    ctx.reply("query/page", listing=listing, page=page.items, offset=offset, total=page.total,
              more=page.more, accounts=page.accounts, filings=page.filings,
              departments=page.departments, platforms=PLATFORM_NAMES, forms=FORMS)
