"""A filing kind is data: a made-up kind — its form, its stages, its templates in a temp
folder — added from this module alone, then filed and approved through the chat."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.render import add_templates
from models import AuditLog, Filing, FilingStatus
from tests.wecom import say, sync_and_grant
from workflow.forms.spec import Field, FormSpec
from workflow.kinds import Choice, Kind, Stage, register_kind, unregister_kind

S = FilingStatus


def noted(uow, transition) -> None:
    """The made-up kind's own effect: an audit row."""
    uow.session.add(AuditLog(at=uow.clock.now(), actor=uow.actor.userid, action="survey:noted",
                             filing_id=transition.filing.id, before={}, after={}))


SURVEY = Kind(
    FormSpec("survey", "调研", ("survey",), "账号运营调研", (
        Field("topic", "调研主题", "text", "调研什么？", max_len=50),
        Field("posts", "发文数量", "count", "上月发文多少条？"),
    )),
    (
        Stage("dept", S.AWAITING_DEPT, "部门确认", "dept_heads", (
            Choice("approve", "确认", "已确认", S.AWAITING_OFFICE, "survey/confirmed"),
            Choice("reject", "退回", "已退回", S.RETURNED, "survey/returned", style=2,
                   refuses=True)), skipped_by_head=True),
        Stage("office", S.AWAITING_OFFICE, "调研审核", "office", (
            Choice("approve", "通过", "已通过", S.APPROVED, "survey/approved",
                   effects=(noted,)),
            Choice("reject", "不通过", "未通过", S.REJECTED, "survey/rejected", style=2,
                   refuses=True))),
    ))


@pytest.fixture
def survey_kind(tmp_path):
    folder = tmp_path / "templates" / "messages" / "survey"
    folder.mkdir(parents=True)
    for name, text in {"confirmed": "调研 #{{ filing.id }} 已由{{ decider }}确认。",
                       "returned": "调研 #{{ filing.id }} 被退回。",
                       "approved": "调研“{{ filing.fields.topic }}”已由{{ decider }}通过。",
                       "rejected": "调研 #{{ filing.id }} 未通过。"}.items():
        (folder / f"{name}.txt.j2").write_text(text, encoding="utf-8")
    add_templates(tmp_path / "templates")
    register_kind(SURVEY)
    yield SURVEY
    unregister_kind("survey")


def test_a_made_up_kind_with_two_stages_is_filed_and_approved_through_chat(
        runner, wecom, session, survey_kind):
    sync_and_grant(runner, [("wangwu", "office")])
    summary = say(wecom, "zhangsan", "调研\n调研主题：粉丝画像\n发文数量：约1200")
    assert "账号运营调研" in summary and "1200" in summary
    assert "#1" in say(wecom, "zhangsan", "确认")
    filing = session.scalars(select(Filing)).one()
    assert (filing.kind, filing.status) == ("survey", "awaiting_dept")

    [card] = [m for m in wecom.inbox("liming") if m["msgtype"] == "template_card"]
    assert card["body"]["main_title"]["title"] == "部门确认：账号运营调研"
    wecom.as_user("liming").tap(card["task_id"], f"decide:{filing.id}:dept:approve")
    wecom.drain()
    assert wecom.texts("zhangsan")[-1] == f"调研 #{filing.id} 已由李明确认。"

    [office] = [m for m in wecom.inbox("wangwu") if m["msgtype"] == "template_card"]
    assert [b["text"] for b in office["body"]["button_list"]] == ["通过", "不通过"]
    wecom.as_user("wangwu").tap(office["task_id"], f"decide:{filing.id}:office:approve")
    wecom.drain()
    session.expire_all()
    assert session.get(Filing, filing.id).status == "approved"
    assert wecom.texts("zhangsan")[-1] == "调研“粉丝画像”已由王五通过。"
    actions = [a.action for a in session.scalars(select(AuditLog).order_by(AuditLog.id))
               if not a.action.startswith("role:")]  # the set-up's CLI grants are audited too
    assert actions == ["submit", "dept:approve", "office:approve", "survey:noted"]
    assert wecom.emulator.card_view(office["task_id"], "wangwu")["replace_name"] == "已通过 · 王五"
