"""Filing kinds as tables (SPEC §3, §5): each kind is its form and its stages in order; each
stage is who decides and the choices they have; each choice is the status it leads to and the
effects it has. Adding a stage is one Stage row; adding a kind is a FormSpec, a Kind row and its
templates (`register_kind`).

    KINDS["register"].stages  →  (部门确认: 确认 → awaiting_office | 退回 → returned,
                                  党政办审核: 批准 → approved + 备案编号 | 驳回 → rejected)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from models import FilingStatus
from workflow import duplicates, effects
from workflow.forms import catalog
from workflow.forms.catalog import form_for_command  # noqa: F401 (re-exported)
from workflow.forms.spec import FormSpec

Effect = Callable[..., None]  # effect(uow, transition): see workflow.effects


@dataclass(frozen=True)
class Choice:
    """One button of a stage: what it says, the status it leads to, what else it does."""

    key: str  # in the button key: decide:<filing>:<stage>:<key>
    text: str  # button text (≤ 10 characters, doc 90236)
    done_text: str  # what the greyed button says afterwards, e.g. 已批准
    next_status: FilingStatus
    told: str  # template (under messages/) of what the submitter is told
    effects: tuple[Effect, ...] = ()
    style: int = 1  # 1 blue … 2 grey/red-ish (doc 90236 style 1-4)
    asks_reason: bool = False  # the decider is asked why (驳回, 退回, 限期整改 …)
    asks_build_id: bool = False  # the decider then gives the new account's ID (已开通)
    asks_date: bool = False  # the decider then gives the day it happened (已注销: default today)
    sets_deadline: bool = False  # the decider may give a deadline (30 days unless they do)
    refuses: bool = False  # a text 驳回/退回 picks the first refusing choice
    tells_heads: bool = False  # the reason also goes to the department's heads
    guard: Callable | None = None  # guard(uow, filing) → a v.Invalid that closes it as 重复


@dataclass(frozen=True)
class Stage:
    """A step of approval: the status that waits at it, who decides, and their choices."""

    name: str  # dept | office | tech | build …: in card keys and the audit log
    status: FilingStatus  # the filing status that waits at this stage
    title: str  # card title prefix, and how messages name the stage
    deciders: str  # "dept_heads", "account_keepers" or a role: see workflow.routing.approvers
    choices: tuple[Choice, ...]
    skipped_by_head: bool = False  # a department head's own filing starts after this stage
    escalate_to: str | None = None  # a role told once the deciders' nudges are spent
    submitter_decides: bool = False  # the submitter may decide here too (confirming a closure)

    def choice(self, key: str) -> Choice | None:
        """The choice called `key` (None when the stage has none)."""
        return next((c for c in self.choices if c.key == key), None)


@dataclass(frozen=True)
class Kind:
    """A filing kind: its form and its stages in order."""

    form: FormSpec
    stages: tuple[Stage, ...]
    identity: tuple[str, ...] = ()  # fields that make two filings the same matter (resubmit)
    withdrawable: bool = True

    @property
    def name(self) -> str:
        return self.form.kind

    def stage_at(self, status) -> Stage | None:
        """The stage waiting at `status` (None when nobody has to decide)."""
        return next((s for s in self.stages if s.status == status), None)

    def stage_named(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def first_stage(self, *, submitter_heads_department: bool) -> Stage:
        """Where a new filing waits first: a head's own filing skips their own sign-off."""
        first = self.stages[0]
        if first.skipped_by_head and submitter_heads_department and len(self.stages) > 1:
            return self.stages[1]
        return first


# --- the rows -------------------------------------------------------------------------------
S = FilingStatus
RETURN = Choice("reject", "退回", "已退回", S.RETURNED, "approval/outcome/dept_reject", style=2,
                asks_reason=True, refuses=True)
REJECT = Choice("reject", "驳回", "已驳回", S.REJECTED, "approval/outcome/office_reject", style=2,
                asks_reason=True, refuses=True)


def dept_stage() -> Stage:
    """部门确认 (art. 5: the department vouches for the filing, in place of its stamp)."""
    return Stage("dept", S.AWAITING_DEPT, "部门确认", "dept_heads", (
        Choice("approve", "确认", "已确认", S.AWAITING_OFFICE, "approval/outcome/dept_approve"),
        RETURN), skipped_by_head=True)


def office_stage(approve: Choice, title: str = "党政办审核") -> Stage:
    """党政办审核: the office's final approval (art. 5, 6)."""
    return Stage("office", S.AWAITING_OFFICE, title, "office", (approve, REJECT))


REGISTER = Kind(catalog.REGISTER, (
    dept_stage(),
    office_stage(Choice("approve", "批准", "已批准", S.APPROVED, "approval/outcome/numbered",
                        effects=(effects.create_account, effects.copy_publicity),
                        guard=duplicates.registration_guard)),
), identity=("platform", "external_id"))

APPLY = Kind(catalog.APPLY, (
    dept_stage(),
    office_stage(Choice("approve", "批准", "已批准", S.AWAITING_BUILD, "approval/outcome/numbered",
                        effects=(effects.create_account, effects.copy_publicity))),
    Stage("build", S.AWAITING_BUILD, "新建账号任务", "tech", (
        Choice("built", "已开通", "已开通", S.APPROVED, "approval/outcome/build_built",
               asks_build_id=True),
        Choice("unable", "无法开通", "无法开通", S.REJECTED, "approval/outcome/build_unable",
               effects=(effects.close_account,), style=2, asks_reason=True, refuses=True))),
), identity=("platform", "name"))

CHANGE = Kind(catalog.CHANGE, (
    dept_stage(),
    office_stage(Choice("approve", "批准", "已批准", S.APPROVED, "approval/outcome/changed",
                        effects=(effects.apply_change, effects.copy_publicity))),
), identity=("account",))

ANNUAL = Kind(catalog.ANNUAL, (
    dept_stage(),
    Stage("office", S.AWAITING_OFFICE, "年度审核", "office", (
        Choice("pass", "合格", "合格", S.APPROVED, "approval/outcome/annual_pass",
               effects=(effects.record_review, effects.close_rectification,
                        effects.copy_publicity)),
        Choice("fix", "限期整改", "限期整改", S.RETURNED, "approval/outcome/annual_fix", style=3,
               effects=(effects.open_rectification,), asks_reason=True, refuses=True,
               tells_heads=True, sets_deadline=True),
        Choice("fail", "不合格", "不合格", S.REJECTED, "approval/outcome/annual_fail", style=2,
               effects=(effects.order_closure,), asks_reason=True, tells_heads=True,
               sets_deadline=True))),
), identity=("account", "year"))

CLOSE = Kind(catalog.CLOSE, (
    dept_stage(),
    office_stage(Choice("approve", "批准", "已批准", S.AWAITING_CLOSURE,
                        "approval/outcome/close_approved",
                        effects=(effects.start_closing, effects.copy_publicity))),
    # The office's approval is not the end: the account is 注销中 until whoever keeps it
    # (its administrators; tech for an account it built) confirms it is gone, with the day.
    Stage("closure", S.AWAITING_CLOSURE, "确认账号已注销", "account_keepers", (
        Choice("closed", "已注销", "已注销", S.APPROVED, "approval/outcome/closed",
               effects=(effects.close_account, effects.complete_ordered_closure),
               asks_date=True),), submitter_decides=True, escalate_to="office"),
), identity=("account",))

REPORT = Kind(catalog.REPORT, (
    Stage("tech", S.AWAITING_TECH, "冒用举报核查", "tech", (
        Choice("handled", "已联系平台处理", "已联系平台处理", S.DONE,
               "approval/outcome/report_handled"),
        Choice("authority", "已报告主管部门", "已报告主管部门", S.DONE,
               "approval/outcome/report_authority"),
        Choice("genuine", "非冒用", "非冒用", S.DONE, "approval/outcome/report_genuine",
               style=2)), escalate_to="office"),
), withdrawable=False)

KINDS: dict[str, Kind] = {k.name: k for k in (REGISTER, APPLY, CHANGE, ANNUAL, CLOSE, REPORT)}
FORMS: dict[str, FormSpec] = catalog.FORMS  # every kind's form, by kind (kept in step with KINDS)


def register_kind(kind: Kind) -> None:
    """Add a filing kind (its form answers to its command from now on)."""
    KINDS[kind.name] = kind
    FORMS[kind.name] = kind.form


def unregister_kind(name: str) -> None:
    """Remove a kind added by `register_kind` (tests)."""
    KINDS.pop(name, None)
    FORMS.pop(name, None)


def kind_of(filing) -> Kind:
    return KINDS[filing.kind]


def stage_of(filing) -> Stage | None:
    """The stage a filing waits at, or None when nobody needs to decide."""
    kind = KINDS.get(filing.kind)
    return kind.stage_at(filing.status) if kind else None


def stage_named(filing, name: str) -> Stage | None:
    """The filing's kind's stage called `name` (for a decision already taken)."""
    kind = KINDS.get(filing.kind)
    return kind.stage_named(name) if kind else None
