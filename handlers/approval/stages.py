"""Approval stages as data (SPEC §5): which status waits for whom, and the buttons they get."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    key: str  # in the button key: decide:<filing>:<stage>:<key>
    text: str  # button text (≤ 10 characters, doc 90236)
    done_text: str  # what the greyed button says afterwards, e.g. 已批准
    style: int = 1  # 1 blue … 2 grey/red-ish (doc 90236 style 1-4)
    asks_reason: bool = False


@dataclass(frozen=True)
class Stage:
    name: str  # dept | office | tech | build
    status: str  # the filing status that waits at this stage
    title: str  # card title prefix
    choices: tuple[Choice, ...]


APPROVE = Choice("approve", "批准", "已批准")
REJECT = Choice("reject", "驳回", "已驳回", style=2, asks_reason=True)

DEPT = Stage("dept", "awaiting_dept", "部门确认", (
    Choice("approve", "确认", "已确认"),
    Choice("reject", "退回", "已退回", style=2, asks_reason=True)))
OFFICE = Stage("office", "awaiting_office", "党政办审核", (APPROVE, REJECT))
ANNUAL_OFFICE = Stage("office", "awaiting_office", "年度审核", (
    Choice("pass", "合格", "合格"),
    Choice("fix", "限期整改", "限期整改", style=3, asks_reason=True),
    Choice("fail", "不合格", "不合格", style=2, asks_reason=True)))
REPORT_TECH = Stage("tech", "awaiting_tech", "冒用举报核查", (
    Choice("handled", "已处理", "已处理"), Choice("genuine", "非冒用", "非冒用", style=2)))
BUILD = Stage("build", "awaiting_build", "新建账号任务", (
    Choice("built", "已开通", "已开通"),
    Choice("unable", "无法开通", "无法开通", style=2, asks_reason=True)))


def stage_of(filing) -> Stage | None:
    """The stage a filing waits at, or None when nobody needs to decide."""
    if filing.status == "awaiting_dept":
        return DEPT
    if filing.status == "awaiting_office":
        return ANNUAL_OFFICE if filing.kind == "annual" else OFFICE
    if filing.status == "awaiting_tech":
        return REPORT_TECH
    if filing.status == "awaiting_build":
        return BUILD
    return None


def choice_of(stage: Stage, key: str) -> Choice | None:
    return next((c for c in stage.choices if c.key == key), None)
