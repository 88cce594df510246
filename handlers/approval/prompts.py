"""Questions the bot asks a decider after a tap: the reason for 驳回/退回, the rectification
asked for, the new account's ID after 已开通. One open question per user, in KeyValue."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.render import render_text
from bot.router import first_word
from bot.sql import claim_row
from models import QUESTION_PREFIX, Decision, Filing, KeyValue
from workflow.build import record_build_id
from workflow.decide import tell_reason
from workflow.forms import validators as v
from workflow.kinds import form_for_command, kind_of

SKIP = ("跳过", "skip", "无", "取消")
PROMPT_LIFE = timedelta(minutes=30)  # an unanswered question lapses, like an idle form


def key(userid: str) -> str:
    return QUESTION_PREFIX + userid


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
                     decider=ctx.user.name, form=kind_of(old).form)
    remember(ctx, {"kind": "reason", "decision": decision.id, "filing": filing.id})
    ctx.postscripts.append(render_text("approval/ask_reason", filing=filing,
                                       outcome=decision.outcome))


def ask_build_id(ctx, filing, decision) -> None:
    """After 已开通: ask tech for the new account's ID."""
    remember(ctx, {"kind": "build_id", "decision": decision.id, "filing": filing.id})
    ctx.postscripts.append(render_text("approval/ask_build_id", filing=filing))


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
    if question["kind"] == "build_id":
        try:
            account = record_build_id(ctx.uow, filing.id, ctx.text)
        except v.Invalid as exc:
            ctx.reply("approval/build_id_invalid", message=exc.message)
            return True
        ctx.session.delete(row)
        ctx.reply("approval/build_recorded", account=account)
        return True
    text = ctx.text.strip()
    reason = "" if text.lower() in SKIP else text[:500]
    ctx.session.delete(row)
    tell_reason(ctx.uow, filing, ctx.session.get(Decision, question["decision"]), reason)
    ctx.reply("approval/reason_sent", reason=reason)
    return True
