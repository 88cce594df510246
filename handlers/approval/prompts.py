"""Questions the bot asks a decider after a decision: the reason for 驳回/退回 (and the
rectification asked for), the new account's ID after 已开通. One open question per user, in
KeyValue; it lapses after 30 minutes.

A reason is never sent unseen: the decider's text is shown back first and goes out on 确认
("好的，收到" typed as a reply to someone else must not become the official reason):

    asked ──text──▶ draft ──确认──▶ sent
      │  ╲            │ ╲──new text──▶ draft
      │   跳过/取消     取消/跳过
      ▼                ▼
    told "no reason"   told "no reason"       (30 min idle: lapsed, told "no reason")

The decision itself reaches its readers in that same message (workflow.decide: held in the
outbox until the reason is sent, skipped, or the question lapses), so one 限期整改 is one message.
"""

from __future__ import annotations

import json
from datetime import date

from bot.render import render_text
from bot.router import first_word
from bot.sql import claim_row
from models import QUESTION_PREFIX, Decision, Filing, KeyValue
from workflow.build import record_build_id
from workflow.closure import record_closed_on
from workflow.deadlines import check_due, set_due
from workflow.decide import REASON_WAIT, deadline_case, reason_readers, tell_reason
from workflow.forms import validators as v
from workflow.kinds import form_for_command
from workflow.queries import names_of

SKIP = ("跳过", "skip", "无", "不填")
CANCEL = ("取消", "cancel", "不发送", "不发")
CONFIRM = ("确认", "发送", "是", "confirm", "ok", "yes")
OWN_WORDS = SKIP + CANCEL + CONFIRM  # answers to the question, though some are also commands
PROMPT_LIFE = REASON_WAIT  # an unanswered question lapses (the decision's message waits as long)
REASON_LIMIT = 500


def key(userid: str) -> str:
    return QUESTION_PREFIX + userid


def ask_reason(ctx, filing, decision) -> None:
    """After 驳回/退回/限期整改/不合格/无法开通: ask the decider why, saying who will read it."""
    remember(ctx, {"kind": "reason", "decision": decision.id, "filing": filing.id})
    ctx.postscripts.append(render_text("approval/ask_reason", filing=filing,
                                       outcome=decision.outcome,
                                       readers=readers(ctx, filing, decision),
                                       due_on=deadline_now(ctx, filing, decision)))


def ask_build_id(ctx, filing, decision) -> None:
    """After 已开通: ask tech for the new account's ID."""
    remember(ctx, {"kind": "build_id", "decision": decision.id, "filing": filing.id})
    ctx.postscripts.append(render_text("approval/ask_build_id", filing=filing))


def ask_closed_on(ctx, filing, decision) -> None:
    """After 已注销: ask on which day the account was closed (today until told otherwise)."""
    remember(ctx, {"kind": "closed_on", "decision": decision.id, "filing": filing.id})
    ctx.postscripts.append(render_text("approval/ask_closed_on", filing=filing,
                                       today=ctx.clock.local_now().date()))


def remember(ctx, value: dict) -> None:
    """Store the open question (its 30 minutes start again). A different question still open
    is closed first: a reason's submitter is told that none came."""
    earlier = ctx.session.get(KeyValue, key(ctx.userid))
    if earlier is not None and earlier.value:
        question = json.loads(earlier.value)
        old = ctx.session.get(Filing, question["filing"])
        if question["kind"] == "reason" and old is not None \
                and question["decision"] != value["decision"]:
            tell_reason(ctx.uow, old, ctx.session.get(Decision, question["decision"]), "")
    row = claim_row(ctx.session, KeyValue, key=key(ctx.userid), value="")
    row.value = json.dumps(value, ensure_ascii=False)
    row.expires_at = ctx.clock.now() + PROMPT_LIFE


def deadline_now(ctx, filing, decision):
    """The deadline the decision set (None when its choice sets none)."""
    case = deadline_case(ctx.session, filing, decision)
    return case.due_on if case is not None else None


def readers(ctx, filing, decision) -> list[str]:
    """Names of who will read the reason (the submitter; the heads where the choice says)."""
    userids = reason_readers(ctx.session, filing, decision, ctx.userid)
    names = names_of(ctx.session, userids)
    return [names[u] for u in userids]


def register(router) -> None:
    router.intercept(lambda ctx: answer(ctx, router))


def answer(ctx, router) -> bool:
    """Take the text as the answer to an open question, unless it is a command."""
    if not ctx.user.has_question:
        return False
    row = ctx.session.get(KeyValue, key(ctx.userid))
    if row is None:
        return False
    question = json.loads(row.value)
    if row.expires_at is not None and row.expires_at < ctx.clock.now():
        ctx.session.delete(row)  # lapsed: the text is an ordinary message again
        ctx.note("approval/question_lapsed", question=question,
                 filing=ctx.session.get(Filing, question["filing"]))
        return False
    word = first_word(ctx.text).lower()
    if ctx.user.has_conversation or (word not in OWN_WORDS and (
            word in router.commands or form_for_command(word) is not None)):
        return False  # a form has the focus, or a command: the question stays open
    filing = ctx.session.get(Filing, question["filing"])
    if question["kind"] == "build_id":
        answer_build_id(ctx, row, filing)
    elif question["kind"] == "closed_on":
        answer_closed_on(ctx, row, filing)
    else:
        answer_reason(ctx, row, question, filing)
    return True


def answer_build_id(ctx, row, filing) -> None:
    """The new account's ID: recorded, or the question is asked again."""
    try:
        account = record_build_id(ctx.uow, filing.id, ctx.text)
    except v.Invalid as exc:
        ctx.reply("approval/build_id_invalid", message=exc.message)
        return
    ctx.session.delete(row)
    ctx.reply("approval/build_recorded", account=account)


def answer_closed_on(ctx, row, filing) -> None:
    """The day the account was closed: recorded, or the question is asked again."""
    if ctx.text.strip().lower() in SKIP + CANCEL + CONFIRM:
        ctx.session.delete(row)  # the day of the tap stands
        ctx.reply("approval/closed_on_recorded", filing=filing, day=None)
        return
    try:
        account, day = record_closed_on(ctx.uow, filing.id, ctx.text)
    except v.Invalid as exc:
        ctx.reply("approval/closed_on_invalid", message=exc.message)
        return
    ctx.session.delete(row)
    ctx.reply("approval/closed_on_recorded", filing=filing, account=account, day=day)


def answer_reason(ctx, row, question: dict, filing) -> None:
    """A reason typed (shown back for 确认), confirmed (sent), or declined (跳过/取消). Where
    the decision set a deadline, a day written first changes it (2026-12-31 补齐记录)."""
    decision = ctx.session.get(Decision, question["decision"])
    text = ctx.text.strip()
    word = text.lower()
    draft, due = question.get("draft"), question.get("due_on")
    context = {"readers": readers(ctx, filing, decision), "filing": filing,
               "outcome": decision.outcome}
    if word in SKIP or word in CANCEL:
        ctx.session.delete(row)
        tell_reason(ctx.uow, filing, decision, "")
        ctx.reply("approval/reason_sent", reason="", dropped=draft or "",
                  due_on=deadline_now(ctx, filing, decision), **context)
        return
    if word in CONFIRM:
        if draft is None:
            remember(ctx, question)
            ctx.reply("approval/ask_reason", due_on=deadline_now(ctx, filing, decision),
                      **context)
            return
        ctx.session.delete(row)
        if due:
            set_due(ctx.uow, deadline_case(ctx.session, filing, decision), date.fromisoformat(due))
        tell_reason(ctx.uow, filing, decision, draft)
        ctx.reply("approval/reason_sent", reason=draft or "", dropped="",
                  due_on=deadline_now(ctx, filing, decision), **context)
        return
    case = deadline_case(ctx.session, filing, decision)
    new_due = None
    if case is not None:
        try:
            new_due, text = v.leading_day(text, today=ctx.clock.local_now().date())
            if new_due is not None:
                check_due(new_due, ctx.clock.local_now().date())
        except v.Invalid as exc:
            remember(ctx, question)
            ctx.reply("approval/deadline_invalid", message=exc.message, **context)
            return
    remember(ctx, {**question, "draft": text[:REASON_LIMIT],
                   "due_on": new_due.isoformat() if new_due else None})
    ctx.reply("approval/reason_confirm", reason=text[:REASON_LIMIT],
              cut=len(text) > REASON_LIMIT, due_on=new_due or (case.due_on if case else None),
              due_changed=new_due is not None, **context)
