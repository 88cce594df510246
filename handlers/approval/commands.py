"""How people decide: a tap on a card, or text (同意/驳回 <编号>), plus 撤回, 待办 and
查询 <编号> (SPEC §5; issue: cards that never lie)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from bot.roles import department_heads, has_role
from handlers.approval import decide as d
from handlers.approval.routing import approvers, close_cards, send_card
from handlers.approval.stages import stage_of
from handlers.forms.catalog import FORMS
from models import AuditLog, Card, Decision, Filing, User

NUMBER = re.compile(r"^#?\s*(\d{1,9})\s*(.*)$", re.S)
TODO_CARDS = 5  # fresh cards sent by 待办 at a time


def register(router) -> None:
    router.card_action("decide")(on_tap)
    router.command("同意", "批准", "approve")(on_text_approve)
    router.command("驳回", "退回", "reject")(on_text_reject)
    router.command("合格", "不合格", "整改", "限期整改")(on_text_named)
    router.command("撤回", "withdraw")(on_withdraw)
    router.command("待办", "todo")(on_todo)


def on_tap(ctx) -> None:
    """template_card_event with key decide:<filing>:<stage>:<choice>."""
    message = ctx.message
    card = ctx.session.scalar(select(Card).where(Card.task_id == message.task_id))
    parts = (message.key or "").split(":")
    if card is None or len(parts) != 4 or not parts[1].isdigit() \
            or int(parts[1]) != card.filing_id or parts[2] != card.stage:
        ctx.reply("approval/unknown_card")
        return
    outcome = d.decide(ctx, card.filing_id, card.stage, parts[3], tapped=card.task_id,
                       click_code=message.response_code or None)
    reply(ctx, outcome)
    if outcome.closed_text:
        ctx.reply_button = outcome.closed_text  # the tapper's own card, at once (doc 90241)


def reply(ctx, outcome: d.Outcome) -> None:
    ctx.reply(outcome.message, outcome=outcome, filing=outcome.filing,
              form=FORMS[outcome.filing.kind] if outcome.filing else None)


def parse_reference(ctx, word: str):
    """The filing number after a command word, and the rest of the text."""
    match = NUMBER.match(ctx.text[len(word):].strip())
    return (int(match.group(1)), match.group(2).strip()) if match else (None, "")


def on_text_approve(ctx) -> None:
    """同意 <编号>: the stage's first (positive) choice, as if tapped."""
    text_decision(ctx, positive=True)


def on_text_reject(ctx) -> None:
    """驳回 <编号> [理由]: the stage's refusing choice, with the reason when given."""
    text_decision(ctx, positive=False)


def on_text_named(ctx) -> None:
    """合格 / 不合格 / 整改 <编号> [要求]: a 年检 outcome by name."""
    text_decision(ctx, named={"合格": "pass", "不合格": "fail", "整改": "fix", "限期整改": "fix"}[
        ctx.text.split()[0]])


def text_decision(ctx, positive: bool = True, named: str | None = None) -> None:
    """A decision typed instead of tapped: the same rules and effects as a tap."""
    word = ctx.text.split()[0] if ctx.text.split() else ""
    filing_id, rest = parse_reference(ctx, word)
    if filing_id is None:
        ctx.reply("approval/which_filing", word=word)
        return
    filing = ctx.session.get(Filing, filing_id)
    if filing is None:
        ctx.reply("approval/not_found")
        return
    if filing.status == "ordered":
        ctx.reply("approval/ordered_case", filing=filing)
        return
    stage = stage_of(filing)
    if stage is None or ctx.userid not in approvers(ctx.session, filing, stage):
        already = ctx.session.scalar(select(Decision.id)
                                     .where(Decision.filing_id == filing.id).limit(1))
        if stage is None or already:
            return reply(ctx, d.lost_race(ctx, filing))
    if named:
        choice = next((c for c in stage.choices if c.key == named), None)
        if choice is None:
            ctx.reply("approval/wrong_words", filing=filing, stage=stage)
            return
    elif positive:
        choice = stage.choices[0]
    else:  # the first refusing choice: 驳回, 退回, or for a 年检 the gentler 限期整改
        choice = next((c for c in stage.choices if c.asks_reason), stage.choices[-1])
    outcome = d.decide(ctx, filing.id, stage.name, choice.key, reason=rest or None)
    if outcome.decided and rest and choice.asks_reason:
        ctx.send(sorted({filing.submitter} | ({*department_heads(ctx.session, filing.department_id)}
                                              if choice.key in ("fix", "fail") else set())),
                 "approval/reason", filing=filing, reason=rest,
                 decision=outcome_decision(ctx, filing),
                 decider=ctx.user.name, form=FORMS[filing.kind])
    reply(ctx, outcome)


def outcome_decision(ctx, filing):
    return ctx.session.scalar(select(Decision).where(Decision.filing_id == filing.id)
                              .order_by(Decision.id.desc()).limit(1))


def on_withdraw(ctx) -> None:
    """撤回 <编号>: the submitter takes back a filing nobody has decided yet."""
    filing_id, _ = parse_reference(ctx, ctx.text.split()[0])
    if not filing_id:
        ctx.reply("approval/which_filing", word="撤回")
        return
    filing = ctx.session.get(Filing, filing_id)
    if filing is None or filing.submitter != ctx.userid:
        ctx.reply("approval/not_yours", filing_id=filing_id)
        return
    decided = ctx.session.scalar(select(Decision.id)
                                 .where(Decision.filing_id == filing.id).limit(1))
    stage = stage_of(filing)
    if decided or stage is None or filing.kind == "report":
        ctx.reply("approval/cannot_withdraw", filing=filing)
        return
    won = ctx.session.execute(
        update(Filing).where(Filing.id == filing.id, Filing.version == filing.version,
                             Filing.status == filing.status)
        .values(status="withdrawn", version=Filing.version + 1, updated_at=ctx.clock.now())
        .execution_options(synchronize_session=False)).rowcount == 1
    if not won:
        ctx.reply("approval/cannot_withdraw", filing=filing)
        return
    ctx.session.add(AuditLog(at=ctx.clock.now(), actor=ctx.userid, action="withdraw",
                             filing_id=filing.id, account_id=filing.account_id,
                             before={"status": filing.status}, after={"status": "withdrawn"}))
    close_cards(ctx, filing, stage.name, "已撤回")
    ctx.reply("approval/withdrawn", filing=filing, form=FORMS[filing.kind])


def on_todo(ctx) -> None:
    """待办: what waits for this user's decision, with fresh cards (old ones may be stale)."""
    waiting = [f for f in ctx.session.scalars(select(Filing).where(Filing.status.in_(
        ("awaiting_dept", "awaiting_office", "awaiting_tech", "awaiting_build")))
        .order_by(Filing.id))
        if ctx.userid in approvers(ctx.session, f, stage_of(f))]
    for filing in waiting[:TODO_CARDS]:
        send_card(ctx, filing, stage_of(filing), [ctx.userid])
    ctx.reply("approval/todo", waiting=waiting, shown=min(len(waiting), TODO_CARDS), forms=FORMS,
              names={u.userid: u.name for u in ctx.session.scalars(
                  select(User).where(User.userid.in_([f.submitter for f in waiting])))})


def can_see(ctx, filing) -> bool:
    """Submitter, members of its department, and the office, publicity and tech roles."""
    from bot.directory import departments_of

    if filing.submitter == ctx.userid or any(
            has_role(ctx.session, ctx.userid, role) for role in ("office", "publicity", "tech")):
        return True
    return filing.department_id in [dep.id for dep in departments_of(ctx.session, ctx.userid)]


def can_see_account(ctx, account) -> bool:
    """The account's department, and the office, publicity and tech roles."""
    from bot.directory import departments_of

    if any(has_role(ctx.session, ctx.userid, role) for role in ("office", "publicity", "tech")):
        return True
    return account.department_id in [dep.id for dep in departments_of(ctx.session, ctx.userid)]


def history(ctx, filing_id: int) -> None:
    """查询 <编号>: a filing, its decisions and its audit trail."""
    filing = ctx.session.get(Filing, filing_id)
    if filing is None or not can_see(ctx, filing):
        ctx.reply("approval/not_found")
        return
    entries = ctx.session.scalars(select(AuditLog).where(AuditLog.filing_id == filing.id)
                                  .order_by(AuditLog.id)).all()
    names = {u.userid: u.name for u in ctx.session.scalars(
        select(User).where(User.userid.in_({e.actor for e in entries})))}
    decisions = {dec.id: dec for dec in ctx.session.scalars(
        select(Decision).where(Decision.filing_id == filing.id))}
    ctx.reply("approval/history", filing=filing, form=FORMS[filing.kind], entries=entries,
              names=names, reasons=[dec for dec in decisions.values() if dec.reason],
              delta=timedelta(hours=8))  # audit times are UTC; the school reads Beijing time
