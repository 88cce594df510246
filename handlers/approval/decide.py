"""One decision on a filing: entitlement, a compare-and-set on its status, then the effects
(SPEC §5.3-5.6). Cards, text commands and later the office web pages all call `decide`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from handlers.approval import effects, prompts
from handlers.approval.routing import approvers, close_cards
from handlers.approval.stages import Choice, Stage, choice_of, stage_of
from models import AuditLog, Decision, Filing, User

NEXT_STATUS = {
    ("dept", "approve"): "awaiting_office",
    ("dept", "reject"): "returned",
    ("office", "reject"): "rejected",
    ("office", "pass"): "approved",
    ("office", "fix"): "returned",
    ("office", "fail"): "rejected",
    ("tech", "handled"): "done",
    ("tech", "genuine"): "done",
    ("build", "built"): "approved",
    ("build", "unable"): "rejected",
}


@dataclass
class Outcome:
    """What happened, for the reply to the person who decided."""

    decided: bool
    message: str  # template name under approval/
    filing: Filing | None = None
    choice: Choice | None = None
    decider: str | None = None  # name of whoever decided (the winner, for a lost race)
    closed_text: str | None = None


def next_status(filing: Filing, stage: Stage, choice: Choice) -> str:
    if stage.name == "office" and choice.key == "approve":
        return "awaiting_build" if filing.kind == "apply" else "approved"
    return NEXT_STATUS[(stage.name, choice.key)]


def decide(ctx, filing_id: int, stage_name: str, choice_key: str, *, reason: str | None = None,
           tapped: str | None = None, click_code: str | None = None) -> Outcome:
    """Decide `filing_id` at `stage_name` as ctx.user; exactly one concurrent decision wins."""
    session = ctx.session
    filing = session.get(Filing, filing_id)
    if filing is None:
        return Outcome(False, "approval/not_found")
    stage = stage_of(filing)
    if stage is None or stage.name != stage_name:
        return lost_race(ctx, filing)
    choice = choice_of(stage, choice_key)
    if choice is None:
        return Outcome(False, "approval/unknown_choice", filing)
    if filing.submitter == ctx.userid:
        return Outcome(False, "approval/own_filing", filing)
    if ctx.userid not in approvers(session, filing, stage):
        return Outcome(False, "approval/not_entitled", filing, choice)
    before = filing.status
    after = next_status(filing, stage, choice)
    won = session.execute(
        update(Filing).where(Filing.id == filing.id, Filing.status == before,
                             Filing.version == filing.version)
        .values(status=after, version=Filing.version + 1, updated_at=ctx.clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not won:
        session.expire(filing)
        return lost_race(ctx, session.get(Filing, filing_id))
    session.expire(filing)
    filing = session.get(Filing, filing_id)
    decision = Decision(filing_id=filing.id, stage=stage.name, outcome=choice.key,
                        decider=ctx.userid, reason=reason or "", decided_at=ctx.clock.now(),
                        round=decision_round(session, filing.id, stage.name))
    session.add(decision)
    session.add(AuditLog(at=ctx.clock.now(), actor=ctx.userid, action=f"{stage.name}:{choice.key}",
                         filing_id=filing.id, account_id=filing.account_id,
                         before={"status": before}, after={"status": after}))
    session.flush()
    closed_text = f"{choice.done_text} · {ctx.user.name}"
    close_cards(ctx, filing, stage.name, closed_text, tapped=tapped, click_code=click_code)
    effects.apply(ctx, filing, stage, choice, decision)
    if choice.asks_reason and reason is None:
        prompts.ask_reason(ctx, filing, decision)
    return Outcome(True, "approval/decided", filing, choice, ctx.user.name, closed_text)


def decision_round(session, filing_id: int, stage: str) -> int:
    earlier = session.scalars(select(Decision.round).where(
        Decision.filing_id == filing_id, Decision.stage == stage)).all()
    return max(earlier, default=0) + 1


def lost_race(ctx, filing: Filing) -> Outcome:
    """The filing moved on: tell the tapper who decided it (or that it was withdrawn)."""
    last = ctx.session.scalar(select(Decision).where(Decision.filing_id == filing.id)
                              .order_by(Decision.id.desc()).limit(1))
    if filing.status == "withdrawn":
        return Outcome(False, "approval/withdrawn_already", filing, closed_text="已撤回")
    if last is None:
        return Outcome(False, "approval/stale", filing)
    decider = ctx.session.get(User, last.decider)
    name = decider.name if decider else last.decider
    stage = stage_by_name(filing, last.stage)
    choice = choice_of(stage, last.outcome) if stage else None
    done = choice.done_text if choice else last.outcome
    return Outcome(False, "approval/decided_by_other", filing, choice, name, f"{done} · {name}")


def stage_by_name(filing, name: str) -> Stage | None:
    from handlers.approval import stages

    for stage in (stages.DEPT, stages.ANNUAL_OFFICE if filing.kind == "annual" else stages.OFFICE,
                  stages.REPORT_TECH, stages.BUILD):
        if stage.name == name:
            return stage
    return None
