"""The one transition function (SPEC §5.3-5.6): a decision on a filing at a stage, taken by the
unit of work's actor — entitlement, a compare-and-set on the filing's status, then the effects
of the choice (workflow.kinds). Card taps, 同意/驳回 texts, the office web and jobs all call
`decide`; exactly one of several concurrent decisions wins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select, update

from models import Account, AuditLog, Decision, Filing, FilingStatus, User
from workflow.deadlines import case_for
from workflow.effects import Transition
from workflow.kinds import Choice, kind_of, stage_named, stage_of
from workflow.roles import department_heads
from workflow.routing import approvers, route

# A decision that asks why (驳回, 退回, 限期整改 …) is told in one message with the reason: it is
# held until the decider answers, or at most as long as the question stays open.
REASON_WAIT = timedelta(minutes=30)


@dataclass
class Outcome:
    """What happened, for whoever decided (a chat reply, a web page)."""

    decided: bool
    code: str  # decided | not_found | stale | decided_by_other | withdrawn_already |
    # unknown_choice | own_filing | not_entitled | duplicate
    filing: Filing | None = None
    choice: Choice | None = None
    decider: str | None = None  # name of whoever decided (the winner, for a lost race)
    closed_text: str | None = None  # what the stage's cards now say
    decision: Decision | None = None
    why: str = ""  # for a duplicate: which account or filing holds the ID
    assigned: str | None = None  # the 备案编号 this decision gave the account (登记/申请)

    @property
    def asks_reason(self) -> bool:
        """The decider should still say why (a 驳回 taken without a reason)."""
        return self.decided and self.choice.asks_reason and not self.decision.reason

    @property
    def asks_date(self) -> bool:
        """The decider should now say on which day it happened (已注销)."""
        return self.decided and self.choice.asks_date

    @property
    def asks_build_id(self) -> bool:
        """The decider should now give the new account's ID (已开通)."""
        return self.decided and self.choice.asks_build_id


def decide(uow, filing_id: int, stage_name: str, choice_key: str, *, reason: str | None = None,
           due_on: date | None = None, tapped: str | None = None,
           click_code: str | None = None) -> Outcome:
    """Decide `filing_id` at `stage_name` as uow.actor; exactly one concurrent decision wins.

    `due_on`: the deadline the decider gave, for a choice that sets one (checked by
    workflow.deadlines.check_due); `tapped`/`click_code`: the card tapped and its fresh
    response code, so that card is greyed out with the code of this very click."""
    session, actor = uow.session, uow.actor
    filing = session.get(Filing, filing_id)
    if filing is None:
        return Outcome(False, "not_found")
    stage = stage_of(filing)
    if stage is None or stage.name != stage_name:
        return lost_race(uow, filing)
    choice = stage.choice(choice_key)
    if choice is None:
        return Outcome(False, "unknown_choice", filing)
    if filing.submitter == actor.userid and not stage.submitter_decides:
        return Outcome(False, "own_filing", filing)
    if actor.userid not in approvers(session, filing, stage):
        return Outcome(False, "not_entitled", filing, choice)
    taken = choice.guard(uow, filing) if choice.guard else None
    if taken is not None:
        return close_as_duplicate(uow, filing, stage, taken, tapped, click_code)
    before = filing.status
    won = session.execute(
        update(Filing).where(Filing.id == filing.id, Filing.status == before,
                             Filing.version == filing.version)
        .values(status=choice.next_status, version=Filing.version + 1,
                updated_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    session.expire(filing)
    if not won:
        return lost_race(uow, session.get(Filing, filing_id))
    filing = session.get(Filing, filing_id)
    decision = Decision(filing_id=filing.id, stage=stage.name, outcome=choice.key,
                        decider=actor.userid, reason=reason or "", decided_at=uow.clock.now(),
                        round=decision_round(session, filing.id, stage.name))
    session.add(decision)
    session.add(AuditLog(at=uow.clock.now(), actor=actor.userid,
                         action=f"{stage.name}:{choice.key}", filing_id=filing.id,
                         account_id=filing.account_id, before={"status": before},
                         after={"status": choice.next_status}))
    session.flush()
    closed_text = f"{choice.done_text} · {actor.name}"
    uow.close_cards(filing, stage.name, closed_text, tapped=tapped, click_code=click_code)
    kind = kind_of(filing)
    transition = Transition(filing, kind, stage, choice, decision,
                            due_on=due_on if choice.sets_deadline else None)
    number_before = getattr(account_of(session, filing), "filing_no", None)
    for effect in choice.effects:
        effect(uow, transition)
    account = account_of(session, filing)
    assigned = account.filing_no if account and account.filing_no != number_before else None
    if FilingStatus(filing.status).waiting:
        route(uow, filing)  # the next stage's deciders get their card
    told = {"filing": filing, "stage": stage, "choice": choice, "decider": actor.name,
            "form": kind.form, "account": account, "reason": reason or "", **transition.told}
    readers = told_to(session, filing, choice, actor.userid)  # not a submitter who decided
    if readers and choice.asks_reason and not reason:  # one message with the reason: held
        uow.tell(readers, choice.told, hold=REASON_WAIT, dedup_key=told_key(decision), **told)
    elif readers:
        uow.tell(readers, choice.told, **told)
    return Outcome(True, "decided", filing, choice, actor.name, closed_text, decision,
                   assigned=assigned)


def close_as_duplicate(uow, filing: Filing, stage, taken, tapped, click_code) -> Outcome:
    """The filing's account is registered or filed already: it ends as 重复, its cards say so,
    and the submitter hears which account or filing holds it."""
    session = uow.session
    won = session.execute(
        update(Filing).where(Filing.id == filing.id, Filing.status == filing.status,
                             Filing.version == filing.version)
        .values(status=FilingStatus.DUPLICATE, version=Filing.version + 1,
                updated_at=uow.clock.now())
        .execution_options(synchronize_session=False)).rowcount == 1
    session.expire(filing)
    if not won:
        return lost_race(uow, session.get(Filing, filing.id))
    filing = session.get(Filing, filing.id)
    session.add(AuditLog(at=uow.clock.now(), actor=uow.actor.userid, action="duplicate",
                         filing_id=filing.id, account_id=filing.account_id,
                         before={"status": stage.status},
                         after={"status": FilingStatus.DUPLICATE, "why": taken.code}))
    closed_text = f"重复 · {uow.actor.name}"
    uow.close_cards(filing, stage.name, closed_text, tapped=tapped, click_code=click_code)
    uow.tell([filing.submitter], "approval/duplicate_closed", filing=filing,
             form=kind_of(filing).form, why=taken.message)
    return Outcome(False, "duplicate", filing, decider=uow.actor.name, closed_text=closed_text,
                   why=taken.message)


def tell_reason(uow, filing: Filing, decision: Decision, reason: str) -> None:
    """Record why (驳回, 退回, 限期整改 …) and send the decision's one message, held since the
    decision, with it ("" when the decider skipped it)."""
    decision.reason = reason
    stage = stage_named(filing, decision.stage)
    choice = stage.choice(decision.outcome)
    case = deadline_case(uow.session, filing, decision)
    uow.release(told_key(decision), told_to(uow.session, filing, choice, uow.actor.userid),
                choice.told, filing=filing, stage=stage, choice=choice, decider=uow.actor.name,
                form=kind_of(filing).form, account=account_of(uow.session, filing),
                reason=reason, due_on=case.due_on if case is not None else None,
                again=bool(reason))  # a reason confirmed late follows; no reason, no repeat


def told_to(session, filing: Filing, choice: Choice, decider: str) -> list[str]:
    """Who hears a decision: its submitter, and the department's heads where the choice
    concerns them (限期整改, 不合格); never the decider."""
    told = [filing.submitter]
    if choice.tells_heads:
        told += department_heads(session, filing.department_id)
    return [u for u in dict.fromkeys(told) if u != decider]


def told_key(decision: Decision) -> str:
    """The outbox key of a decision's message, held while the decider is asked why."""
    return f"told:{decision.id}"


def deadline_case(session, filing: Filing, decision: Decision) -> Filing | None:
    """The filing carrying the deadline `decision` set (None when its choice sets none)."""
    choice = stage_named(filing, decision.stage).choice(decision.outcome)
    return case_for(session, filing, decision) if choice and choice.sets_deadline else None


def reason_readers(session, filing: Filing, decision: Decision, decider: str) -> list[str]:
    """Who reads a decider's reason: those the decision's one message goes to (told_to)."""
    choice = stage_named(filing, decision.stage).choice(decision.outcome)
    return told_to(session, filing, choice, decider) if choice else [filing.submitter]


def decision_round(session, filing_id: int, stage: str) -> int:
    """1 for a stage's first decision; a resubmitted filing is decided again in a new round."""
    earlier = session.scalars(select(Decision.round).where(
        Decision.filing_id == filing_id, Decision.stage == stage)).all()
    return max(earlier, default=0) + 1


def lost_race(uow, filing: Filing) -> Outcome:
    """The filing moved on: who decided it (or that it was withdrawn)."""
    last = last_decision(uow.session, filing.id)
    if filing.status == FilingStatus.WITHDRAWN:
        return Outcome(False, "withdrawn_already", filing, closed_text="已撤回")
    if last is None:
        return Outcome(False, "stale", filing)
    decider = uow.session.get(User, last.decider)
    name = decider.name if decider else last.decider
    stage = stage_named(filing, last.stage)
    choice = stage.choice(last.outcome) if stage else None
    done = choice.done_text if choice else last.outcome
    return Outcome(False, "decided_by_other", filing, choice, name, f"{done} · {name}", last)


def last_decision(session, filing_id: int) -> Decision | None:
    """The latest decision on a filing (None before the first)."""
    return session.scalar(select(Decision).where(Decision.filing_id == filing_id)
                          .order_by(Decision.id.desc()).limit(1))


def withdraw(uow, filing_id: int) -> tuple[str, Filing | None]:
    """撤回: the submitter takes back a filing nobody has decided yet.

    Returns (code, filing): withdrawn | not_yours | withdrawn_before | cannot_withdraw."""
    session = uow.session
    filing = session.get(Filing, filing_id)
    if filing is None or filing.submitter != uow.actor.userid:
        return "not_yours", filing
    if filing.status == FilingStatus.WITHDRAWN:
        return "withdrawn_before", filing
    stage = stage_of(filing)
    if last_decision(session, filing.id) or stage is None or not kind_of(filing).withdrawable:
        return "cannot_withdraw", filing
    before = filing.status
    won = session.execute(
        update(Filing).where(Filing.id == filing.id, Filing.version == filing.version,
                             Filing.status == before)
        .values(status=FilingStatus.WITHDRAWN, version=Filing.version + 1,
                updated_at=uow.clock.now())
        .execution_options(synchronize_session=False)).rowcount == 1
    if not won:
        return "cannot_withdraw", filing
    session.add(AuditLog(at=uow.clock.now(), actor=uow.actor.userid, action="withdraw",
                         filing_id=filing.id, account_id=filing.account_id,
                         before={"status": before}, after={"status": FilingStatus.WITHDRAWN}))
    uow.close_cards(filing, stage.name, "已撤回")
    return "withdrawn", filing


def account_of(session, filing: Filing) -> Account | None:
    """The account a filing concerns (None before one exists)."""
    return session.get(Account, filing.account_id) if filing.account_id else None
