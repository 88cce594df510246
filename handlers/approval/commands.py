"""How people decide in chat: a tap on a card, or text (同意/驳回 <编号>), plus 撤回 and 待办
(SPEC §5). The rules are workflow.decide's; this module parses and answers."""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers.approval import prompts
from models import Card, Decision, Filing, FilingStatus
from workflow import decide as d
from workflow.access import can_see_filing, viewer
from workflow.deadlines import check_due
from workflow.forms import validators as v
from workflow.kinds import kind_of, stage_of
from workflow.queries import names_of
from workflow.routing import approvers
from workflow.todo import todo

NUMBER = re.compile(r"^#?\s*(\d{1,9})\s*(.*)$", re.S)
NAMED_CHOICES = {"合格": "pass", "不合格": "fail", "整改": "fix", "限期整改": "fix"}


def register(router) -> None:
    router.card_action("decide")(on_tap)
    router.command("同意", "批准", "approve")(on_text_approve)
    router.command("驳回", "退回", "reject")(on_text_reject)
    router.command(*NAMED_CHOICES)(on_text_named)
    router.command("撤回", "withdraw")(on_withdraw)
    router.command("待办", "todo")(on_todo)


def text_commands(stage) -> list[tuple[str, object]]:
    """The words that decide at `stage` in text, with the choice each takes (同意 → the first,
    驳回 → the first refusing one, 合格/整改/不合格 by name)."""
    named = {key: word for word, key in reversed(NAMED_CHOICES.items())}
    refusing = next((c for c in stage.choices if c.refuses), None)
    words = []
    for choice in stage.choices:
        word = named.get(choice.key) or ("同意" if choice is stage.choices[0] else
                                         "驳回" if choice is refusing else None)
        if word:
            words.append((word, choice))
    return words


def on_tap(ctx) -> None:
    """template_card_event with key decide:<filing>:<stage>:<choice>."""
    message = ctx.message
    card = ctx.session.scalar(select(Card).where(Card.task_id == message.task_id))
    parts = (message.key or "").split(":")
    if card is None or len(parts) != 4 or not parts[1].isdigit() \
            or int(parts[1]) != card.filing_id or parts[2] != card.stage:
        ctx.reply("approval/unknown_card")
        return
    outcome = d.decide(ctx.uow, card.filing_id, card.stage, parts[3], tapped=card.task_id,
                       click_code=message.response_code or None)
    reply(ctx, outcome)
    if outcome.closed_text:
        ctx.reply_button = outcome.closed_text  # the tapper's own card, at once (doc 90241)


def reply(ctx, outcome: d.Outcome) -> None:
    """Answer the decider; ask what the choice still needs (a reason, the new account's ID)."""
    if outcome.asks_build_id:
        prompts.ask_build_id(ctx, outcome.filing, outcome.decision)
    if outcome.asks_date:
        prompts.ask_closed_on(ctx, outcome.filing, outcome.decision)
    if outcome.asks_reason:
        prompts.ask_reason(ctx, outcome.filing, outcome.decision)
    ctx.reply(f"approval/{outcome.code}", outcome=outcome, filing=outcome.filing,
              form=kind_of(outcome.filing).form if outcome.filing else None)


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
    text_decision(ctx, named=NAMED_CHOICES[ctx.text.split()[0]])


def text_decision(ctx, positive: bool = True, named: str | None = None) -> None:
    """A decision typed instead of tapped: the same rules and effects as a tap."""
    word = ctx.text.split()[0] if ctx.text.split() else ""
    filing_id, rest = parse_reference(ctx, word)
    if filing_id is None:
        ctx.reply("approval/which_filing", word=word)
        return
    filing = ctx.session.get(Filing, filing_id)
    if filing is None or not can_see_filing(viewer(ctx.session, ctx.userid), filing):
        ctx.reply("approval/not_found")  # outside one's scope a filing does not exist
        return
    if filing.status == FilingStatus.ORDERED:
        ctx.reply("approval/ordered_case", filing=filing)
        return
    stage = stage_of(filing)
    if stage is None or ctx.userid not in approvers(ctx.session, filing, stage):
        already = ctx.session.scalar(select(Decision.id)
                                     .where(Decision.filing_id == filing.id).limit(1))
        if stage is None or already:
            return reply(ctx, d.lost_race(ctx.uow, filing))
    if named:
        choice = stage.choice(named)
        if choice is None:
            ctx.reply("approval/wrong_words", filing=filing, stage=stage)
            return
    elif positive:
        choice = stage.choices[0]
    else:  # the first refusing choice: 驳回, 退回, or for a 年检 the gentler 限期整改
        choice = next((c for c in stage.choices if c.refuses),
                      stage.choices[-1] if len(stage.choices) > 1 else None)
        if choice is None:  # nothing to refuse (已注销 is a confirmation)
            ctx.reply("approval/wrong_words", filing=filing, stage=stage)
            return
    due_on = None
    if choice.sets_deadline and rest:  # 整改 12 2026-12-31 补齐记录: the deadline first
        today = ctx.clock.local_now().date()
        try:
            due_on, rest = v.leading_day(rest, today=today)
            if due_on is not None:
                check_due(due_on, today)
        except v.Invalid as exc:
            ctx.reply("approval/deadline_invalid", message=exc.message, outcome=choice.key)
            return
    reply(ctx, d.decide(ctx.uow, filing.id, stage.name, choice.key, reason=rest or None,
                        due_on=due_on))


def on_withdraw(ctx) -> None:
    """撤回 <编号>: the submitter takes back a filing nobody has decided yet."""
    filing_id, _ = parse_reference(ctx, ctx.text.split()[0])
    if not filing_id:
        ctx.reply("approval/which_filing", word="撤回")
        return
    code, filing = d.withdraw(ctx.uow, filing_id)
    ctx.reply(f"approval/{code}", filing=filing, filing_id=filing_id,
              form=kind_of(filing).form if filing else None)


def on_todo(ctx) -> None:
    """待办: what waits for this user's decision; a fresh card only where theirs has lapsed."""
    found = todo(ctx.uow, ctx.userid)
    ctx.reply("approval/todo", waiting=found.items, total=found.total,
              forms={w.filing.kind: kind_of(w.filing).form for w in found.items},
              names=names_of(ctx.session, [w.filing.submitter for w in found.items]))

