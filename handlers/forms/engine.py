"""The conversation engine: one FormSpec at a time per user, state in the database (SPEC §4).

States of a Conversation row (`step`):
    department  – the user belongs to several departments: which one files?
    <field>     – asking that field
    choose      – an answer matched several people/accounts: pick one by number
    confirm     – summary shown: 确认 / 修改 <字段> / 取消
    abandon     – a new form command arrived mid-form: abandon the current one? 是/否
A form idle for 30 minutes expires; the next message says so.

Layout: this module routes messages and starts forms; a Step (steps.py, with its edits.py and
prompts.py mixins) does one message's work; state.py holds the dialogue state (Dialogue), the
reserved words and `update`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.render import render_text
from bot.router import first_word
from handlers.forms.oneshot import blank_template, parse_lines
from handlers.forms.state import (
    CANCEL,
    DEPARTMENT,
    FORM_WORDS,
    NO,
    YES,
    Dialogue,
    hint,
    update,
)
from handlers.forms.steps import Step
from models import Account, Conversation, Membership
from workflow.forms.spec import FormSpec
from workflow.kinds import FORMS, form_for_command
from workflow.roles import departments_of

IDLE_LIMIT = timedelta(minutes=30)


def register(router) -> None:
    router.intercept(lambda ctx: intercept(ctx, router))
    router.card_action("annual")(start_annual_from_card)


def start_annual_from_card(ctx) -> None:
    """A tap on a reminder card's account button: the 年检 form for that account, in the
    account's department (no department question), saying which account and year it is."""
    account_id = (ctx.message.key or "").split(":", 1)[-1]
    account = ctx.session.get(Account, int(account_id)) if account_id.isdigit() else None
    member = account is not None and ctx.session.get(Membership,
                                                     (ctx.userid, account.department_id))
    if not member:
        ctx.reply("approval/unknown_card")
        return
    conv = load(ctx)
    if conv is not None:
        ctx.reply("forms/abandon_first", current=FORMS[conv.kind].title)
        return
    year = ctx.clock.local_now().year - 1
    ctx.note("forms/from_card", account=account, year=year)
    start(ctx, FORMS["annual"], f"年检\n账号：{account.filing_no or account.name}\n年度：{year}",
          department_id=account.department_id, guided=True)


def intercept(ctx, router) -> bool:
    """Handle `ctx.text` if it starts a form or belongs to the user's form in progress."""
    conv = load(ctx)
    if conv is not None and ctx.clock.now() - conv.updated_at > IDLE_LIMIT:
        ctx.note("forms/expired", title=FORMS[conv.kind].title)
        ctx.session.delete(conv)
        ctx.session.flush()
        conv = None
    text = ctx.text
    form = form_for_command(first_word(text))
    if conv is None:
        if form is None:
            return False
        start(ctx, form, text)
        return True
    word = first_word(text).lower()
    if word in router.commands and word not in FORM_WORDS and form is None:
        # Another command (帮助, 查询, 待办, 同意 …): its own handler answers, the form waits.
        ctx.postscripts.append(render_text("forms/still_open", title=FORMS[conv.kind].title))
        return False
    if form is not None and text.splitlines()[0].strip().endswith(("模板", "template")):
        start(ctx, form, text)  # a blank template does not disturb the form in progress
        ctx.reply_text += "\n\n" + render_text("forms/still_open", title=FORMS[conv.kind].title)
        return True
    if text.lower() in CANCEL:
        ctx.session.delete(conv)
        ctx.reply("forms/cancelled", title=FORMS[conv.kind].title)
        return True
    if form is not None and form.kind == conv.kind:
        Step(ctx, conv).merge(text)  # the same form again, e.g. a corrected one-shot
        return True
    if form is not None:
        update(conv, step="abandon", pending=text,
               resume=conv.step if conv.step != "abandon" else Dialogue.of(conv).resume)
        ctx.reply("forms/abandon", current=FORMS[conv.kind].title, new=form.title)
        return True
    if conv.step == "abandon":
        abandon_or_resume(ctx, conv, text)
        return True
    Step(ctx, conv).handle(text)
    return True


def abandon_or_resume(ctx, conv: Conversation, text: str) -> None:
    """A new form's command came mid-form: 是 starts it (the old form is dropped), 否 resumes."""
    pending, resume = Dialogue.of(conv).pending, Dialogue.of(conv).resume
    conv.updated_at = ctx.clock.now()
    if text.lower() in YES:
        ctx.session.delete(conv)
        ctx.session.flush()
        start(ctx, form_for_command(first_word(pending)), pending)
    elif text.lower() in NO:
        update(conv, step=resume)
        Step(ctx, conv).repeat()
    else:
        ctx.reply("forms/abandon", current=FORMS[conv.kind].title,
                  new=form_for_command(first_word(pending)).title)


def load(ctx) -> Conversation | None:
    """The user's conversation row, locked for this transaction.

    Most messages come from users with no form open: the callback already knows (one query
    for the sender and their conversation), which spares them this load."""
    if not ctx.user.has_conversation:
        return None
    return ctx.session.scalar(
        select(Conversation).where(Conversation.userid == ctx.userid).with_for_update())


def start(ctx, form: FormSpec, text: str, department_id: int | None = None,
          guided: bool = False) -> None:
    """Begin `form`: the blank template, a one-shot form, or the first question.

    `guided`: values in `text` come from the bot (a card's account and year), not the user's
    one-shot form, so every other question is asked, optional ones included."""
    lines = text.splitlines()
    rest = lines[0].strip()[len(first_word(lines[0])):].strip()
    if rest in ("模板", "template"):
        ctx.reply("forms/template", form=form, blank=blank_template(form))
        return
    conv = Conversation(userid=ctx.userid, kind=form.kind, step="", answers={},
                        updated_at=ctx.clock.now())
    ctx.session.add(conv)
    step = Step(ctx, conv)
    raw, unknown, stray = parse_lines(form, lines[1:] + ([rest] if rest else []))
    oneshot = bool(raw or unknown) and not guided
    update(conv, raw=raw, oneshot=oneshot)
    if unknown or stray:
        step.notes.append(("unknown_labels", {"labels": unknown, "stray": stray[:3], "form": form}))
    if department_id is not None:
        update(conv, department_id=department_id)
    elif form.per_department:
        departments = departments_of(ctx.session, ctx.userid)
        if not departments:
            ctx.session.delete(conv)
            ctx.reply("forms/no_department")
            return
        if len(departments) > 1:
            options = [(d.name, d.id) for d in departments]
            update(conv, step="department", choice={"for": DEPARTMENT, "options": options})
            step.ask_choice(hint("which_department"), options)
            return
        update(conv, department_id=departments[0].id)
    step.advance()
