"""Questions the bot asks a decider after a tap: the reason for 驳回/退回, the rectification
asked for, the new account's ID after 已开通. One open question per user, in KeyValue."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.db import claim_row
from bot.roles import department_heads
from bot.router import first_word
from handlers.forms import validators as v
from handlers.forms.catalog import FORMS, form_for_command
from models import Account, AuditLog, Decision, Filing, KeyValue

SKIP = ("跳过", "skip", "无", "取消")
PROMPT_LIFE = timedelta(minutes=30)  # an unanswered question lapses, like an idle form


PROMPT_PREFIX = "await:"


def key(userid: str) -> str:
    return PROMPT_PREFIX + userid


def ask_reason(ctx, filing, decision) -> None:
    """After 驳回/退回/限期整改/不合格/无法开通: ask the decider why (跳过 allowed).

    An earlier question still open is closed first: its submitter is told no reason came."""
    earlier = ctx.session.get(KeyValue, key(ctx.userid))
    if earlier is not None:
        question = json.loads(earlier.value)
        old = ctx.session.get(Filing, question["filing"])
        if question["kind"] == "reason" and old is not None:
            ctx.send([old.submitter], "approval/reason", filing=old, reason="",
                     decision=ctx.session.get(Decision, question["decision"]),
                     decider=ctx.user.name, form=FORMS[old.kind])
    remember(ctx, {"kind": "reason", "decision": decision.id, "filing": filing.id})
    ctx.postscripts.append(ctx_text("approval/ask_reason", filing=filing, outcome=decision.outcome))


def ask_build_id(ctx, filing, decision) -> None:
    remember(ctx, {"kind": "build_id", "decision": decision.id, "filing": filing.id})
    ctx.postscripts.append(ctx_text("approval/ask_build_id", filing=filing))


def ctx_text(template: str, **context) -> str:
    from bot.render import render_text
    return render_text(template, **context)


def remember(ctx, value: dict) -> None:
    row = claim_row(ctx.session, KeyValue, key=key(ctx.userid), value="")
    row.value = json.dumps(value)
    row.expires_at = ctx.clock.now() + PROMPT_LIFE


def register(router) -> None:
    router.intercept(lambda ctx: answer(ctx, router))


def answer(ctx, router) -> bool:
    """Take the text as the answer to an open question, unless it is a command."""
    if not ctx.user.has_question:
        return False
    row = ctx.session.get(KeyValue, key(ctx.userid))
    if row is None:
        return False
    if row.expires_at is not None and row.expires_at < ctx.clock.now():
        ctx.session.delete(row)  # lapsed: the text is an ordinary message again
        return False
    word = first_word(ctx.text).lower()
    if ctx.user.has_conversation or (word not in SKIP and (
            word in router.commands or form_for_command(word) is not None)):
        return False  # a form has the focus, or a command: the question stays open
    question = json.loads(row.value)
    filing = ctx.session.get(Filing, question["filing"])
    decision = ctx.session.get(Decision, question["decision"])
    if question["kind"] == "build_id":
        return take_build_id(ctx, row, filing, decision)
    text = ctx.text.strip()
    reason = "" if text.lower() in SKIP else text[:500]
    decision.reason = reason
    ctx.session.delete(row)
    recipients = [filing.submitter]
    if decision.outcome in ("fix", "fail"):
        recipients += department_heads(ctx.session, filing.department_id)
    ctx.send(sorted(set(recipients) - {ctx.userid}), "approval/reason", filing=filing,
             decision=decision, reason=reason, decider=ctx.user.name, form=FORMS[filing.kind])
    ctx.reply("approval/reason_sent", reason=reason)
    return True


def take_build_id(ctx, row, filing, decision) -> bool:
    """已开通: the tech user gives the new account's ID; the account becomes active."""
    account = ctx.session.get(Account, filing.account_id)
    try:
        external_id = v.account_id(ctx.text, account.platform)
    except v.Invalid as exc:
        ctx.reply("raw", text=exc.message + "\n请再发送新账号的ID：")
        return True
    ctx.session.add(AuditLog(at=ctx.clock.now(), actor=ctx.userid, action="account:built",
                             filing_id=filing.id, account_id=account.id,
                             before={"status": account.status},
                             after={"status": "active", "external_id": external_id}))
    account.external_id, account.status, account.updated_at = external_id, "active", ctx.clock.now()
    ctx.session.delete(row)
    ctx.send([filing.submitter], "approval/built", account=account, filing=filing)
    ctx.reply("approval/build_recorded", account=account)
    return True
