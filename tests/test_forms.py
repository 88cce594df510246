"""Every filing flow through the emulator's encrypted callbacks (SPEC §3-4)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import create_app
from models import Account, AuditLog, Conversation, Filing
from tests.factories import make_account, make_filing
from tests.wecom import WeComActions, chat


@pytest.fixture(autouse=True)
def synced(runner):
    """The directory is cached (departments, leaders), as after `directory sync`."""
    assert runner.invoke(args=["directory", "sync"]).exit_code == 0


def filings(session):
    return session.scalars(select(Filing).order_by(Filing.id)).all()


def conversation(session, userid):
    session.expire_all()
    return session.get(Conversation, userid)


def test_register_step_by_step_creates_the_filing_with_an_audit_entry(wecom, session):
    assert "1. 新浪微博" in chat(wecom, "zhangsan", "登记")
    assert "账号名称" in chat(wecom, "zhangsan", "3")
    assert "账号ID" in chat(wecom, "zhangsan", "文法学院🎓官微")
    assert "主页链接" in chat(wecom, "zhangsan", "wenfa2019")
    reply = chat(wecom, "zhangsan", "跳过")
    assert "负责人" in reply and "默认”即为：李明" in reply
    assert "默认”即为：张三" in chat(wecom, "zhangsan", "默认")
    assert "用途" in chat(wecom, "zhangsan", "默认")
    assert "开通时间" in chat(wecom, "zhangsan", "发布学院新闻")
    summary = chat(wecom, "zhangsan", "2019年9月")
    assert "平台：微信公众号" in summary and "开通时间：2019-09" in summary
    done = chat(wecom, "zhangsan", "确认")
    [filing] = filings(session)
    assert f"编号 #{filing.id}" in done
    assert filing.kind == "register" and filing.status == "awaiting_dept"
    assert filing.department_id == 5 and filing.submitter == "zhangsan"
    assert filing.fields["platform"] == "WX" and filing.fields["name"] == "文法学院🎓官微"
    assert filing.fields["external_id"] == "wenfa2019"
    assert filing.fields["leader"]["userid"] == "liming"
    assert filing.fields["admins"][0]["userid"] == "zhangsan"
    assert filing.fields["opened"] == "2019-09" and "homepage" not in filing.fields
    [audit] = session.scalars(select(AuditLog)).all()
    assert (audit.actor, audit.action, audit.filing_id) == ("zhangsan", "submit", filing.id)
    assert audit.after == {"status": "awaiting_dept"}
    assert conversation(session, "zhangsan") is None


ONESHOT = """登记
平台：微信公众号
账号名称： 文法学院
账号ID:wenfa2019

主页链接：https://mp.weixin.qq.com/wenfa
负责人：李明 13912345678
管理员：张三、lisi
用途：学院新闻"""


def test_oneshot_complete_goes_straight_to_the_summary(wecom, session):
    summary = chat(wecom, "zhangsan", ONESHOT)
    assert summary.startswith("请核对")
    assert "负责人：李明 13912345678" in summary and "管理员：张三、李四" in summary
    chat(wecom, "zhangsan", "确认")
    [filing] = filings(session)
    assert filing.fields["leader"] == {"userid": "liming", "name": "李明", "phone": "13912345678"}
    assert [p["userid"] for p in filing.fields["admins"]] == ["zhangsan", "lisi"]


def test_oneshot_partial_asks_only_for_missing_and_invalid_fields(wecom, session):
    reply = chat(wecom, "xuli",
                 "登记\n平台：抖音\n账号ID：javascript:alert(1)\n粉丝：300\n账号名称：理工视界")
    assert "无法识别" in reply and "粉丝" in reply
    assert "账号ID" in reply  # invalid, so asked again
    summary = chat(wecom, "xuli", "https://www.douyin.com/user/ligong")
    assert "账号名称：理工视界" in summary and "平台：抖音" in summary
    assert "负责人：高峰" in summary and "管理员：徐丽" in summary  # defaults


def test_template_returns_the_blank_form(wecom):
    reply = chat(wecom, "zhangsan", "年检 模板")
    assert "年检\n账号：\n年度：\n发文数量：" in reply


def test_back_returns_to_the_previous_question(wecom, session):
    chat(wecom, "zhangsan", "申请", "微信公众号", "文法新声")
    assert "拟用的账号名称" in chat(wecom, "zhangsan", "返回")
    assert "申请理由" in chat(wecom, "zhangsan", "文法之声")
    assert conversation(session, "zhangsan").answers["name"] == "文法之声"
    assert "第一个问题" in chat(wecom, "zhangsan", "返回", "返回", "返回")


def test_edit_from_the_summary_then_confirm(wecom, session):
    chat(wecom, "zhangsan", ONESHOT)
    assert "账号名称是什么" in chat(wecom, "zhangsan", "修改 账号名称")
    summary = chat(wecom, "zhangsan", "文法学院官方")
    assert "账号名称：文法学院官方" in summary
    assert "可修改" in chat(wecom, "zhangsan", "修改 颜色")
    chat(wecom, "zhangsan", "确认")
    assert filings(session)[0].fields["name"] == "文法学院官方"


def test_cancel_abandons_and_saves_nothing(wecom, session):
    chat(wecom, "zhangsan", "登记", "1")
    assert "已取消" in chat(wecom, "zhangsan", "取消")
    assert conversation(session, "zhangsan") is None and filings(session) == []


def test_an_idle_form_expires_after_30_minutes_with_a_note(wecom, clock, session):
    chat(wecom, "zhangsan", "登记", "1")
    clock.advance(minutes=29)
    assert "账号ID" in chat(wecom, "zhangsan", "文法微博")  # still alive
    clock.advance(minutes=31)
    reply = chat(wecom, "zhangsan", "3512771853")
    assert "已自动作废" in reply and "您可以发送" in reply
    assert conversation(session, "zhangsan") is None


def test_a_new_command_mid_form_asks_before_abandoning(wecom, session):
    chat(wecom, "zhangsan", "登记", "1")
    assert "要放弃它" in chat(wecom, "zhangsan", "申请")
    assert "账号名称" in chat(wecom, "zhangsan", "否")
    chat(wecom, "zhangsan", "申请")
    assert "1. 新浪微博" in chat(wecom, "zhangsan", "是")
    assert conversation(session, "zhangsan").kind == "apply"


def test_help_mid_form_keeps_the_form(wecom, session):
    chat(wecom, "zhangsan", "登记", "1")
    assert "账号备案助手" in chat(wecom, "zhangsan", "帮助")
    assert conversation(session, "zhangsan").step == "name"


BAD_ANSWERS = [
    # (answers to reach the question, bad answer, words the error must contain)
    (["登记"], "推特", "平台"),
    (["登记", "微信公众号", "文法"], "1abc", "微信号"),
    (["登记", "新浪微博", "文法"], "abc", "微博"),
    (["登记", "抖音", "文法", "https://douyin.com/x"], "ftp://x.cn", "http"),
    (["登记", "抖音", "文法", "https://douyin.com/x", "跳过"], "李明 12345", "手机"),
    (["登记", "抖音", "文法", "https://douyin.com/x", "跳过"], "王老师", "手机"),
    (["登记", "抖音", "文法", "https://douyin.com/x", "跳过", "默认", "默认", "x"], "2019年13月",
     "开通时间"),
    (["登记", "抖音"], "文" * 51, "50"),
    (["登记", "抖音"], "密码：abc123", "第十三条"),
    (["申请", "抖音", "文法"], "", "申请理由"),
]


@pytest.mark.parametrize("path,bad,expected", BAD_ANSWERS,
                         ids=[b[1][:12] or "empty" for b in BAD_ANSWERS])
def test_bad_values_are_explained_and_valid_answers_kept(wecom, session, path, bad, expected):
    chat(wecom, "zhangsan", *path)
    before = dict(conversation(session, "zhangsan").answers)
    reply = chat(wecom, "zhangsan", bad or " ")
    assert expected in reply
    after = conversation(session, "zhangsan").answers
    assert {k: v for k, v in after.items() if not k.startswith("_")} == \
        {k: v for k, v in before.items() if not k.startswith("_")}


def test_annual_review_validators_and_account_choice(wecom, session, clock):
    make_account(wecom.app, opened="2024-03")
    make_account(wecom.app, name="文法学院微博", platform="WB", external_id="123456",
                 filing_no="WB-2025-0002")
    reply = chat(wecom, "zhangsan", "年检")
    assert "1. 文法学院微信（微信公众号 · WX-2025-0001）" in reply
    assert "年度" in chat(wecom, "zhangsan", "WB-2025-0002")
    assert "2026" in chat(wecom, "zhangsan", "2026")  # not a past year
    assert "发文数量" in chat(wecom, "zhangsan", "2025")
    assert "粉丝数" in chat(wecom, "zhangsan", "1.2万")
    assert "不小于0的整数" in chat(wecom, "zhangsan", "-5")
    chat(wecom, "zhangsan", "12,000")
    assert "是/否" in chat(wecom, "zhangsan", "也许")
    chat(wecom, "zhangsan", "是", "有", "无")
    summary = chat(wecom, "zhangsan", "跳过")
    assert "发文数量：12000" in summary and "审核制度：是" in summary and "安全事件：无" in summary
    chat(wecom, "zhangsan", "确认")
    [filing] = filings(session)
    assert filing.kind == "annual" and filing.fields["year"] == 2025
    assert filing.account_id == filing.fields["account"]["id"]
    # a second 年检 for the same account and year is caught
    chat(wecom, "zhangsan", "年检", "文法学院微博")
    assert f"#{filing.id}" in chat(wecom, "zhangsan", "2025")


def test_annual_year_before_the_account_existed(wecom):
    make_account(wecom.app, opened="2024-03")
    chat(wecom, "zhangsan", "年检", "1")
    assert "2024" in chat(wecom, "zhangsan", "2023")


def test_accounts_of_other_departments_cannot_be_chosen(wecom, session):
    make_account(wecom.app, name="经管学院微信", department_id=6, external_id="jg1",
                 filing_no="WX-2025-0009")
    reply = chat(wecom, "zhangsan", "注销")
    assert "登记" in reply and "经管学院微信" not in reply
    assert conversation(session, "zhangsan") is None


def test_change_needs_a_new_leader_or_admin(wecom, session):
    make_account(wecom.app)
    chat(wecom, "zhangsan", "变更", "文法学院微信", "跳过", "跳过", "跳过", "跳过", "跳过")
    assert "至少" in chat(wecom, "zhangsan", "人事调整", "确认")
    chat(wecom, "zhangsan", "修改 新管理员", "lisi")
    chat(wecom, "zhangsan", "确认")
    [filing] = filings(session)
    assert filing.kind == "change" and filing.fields["new_admins"][0]["userid"] == "lisi"


def test_close_flow(wecom, session):
    make_account(wecom.app)
    chat(wecom, "zhangsan", "注销\n账号：WX-2025-0001\n原因：合并到学院主账号")
    chat(wecom, "zhangsan", "确认")
    [filing] = filings(session)
    assert filing.kind == "close" and filing.fields["reason"] == "合并到学院主账号"


def test_ambiguous_names_become_a_numbered_choice(wecom, session):
    chat(wecom, "zhangsan", "登记\n平台：抖音\n账号名称：文法\n账号ID：wenfa")
    chat(wecom, "zhangsan", "修改 管理员")
    reply = chat(wecom, "zhangsan", "张伟")
    assert "2 位“张伟”" in reply and "经济管理学院" in reply and "开放教育学院" in reply
    summary = chat(wecom, "zhangsan", "2")
    assert "管理员：张伟" in summary
    chat(wecom, "zhangsan", "确认")
    assert filings(session)[0].fields["admins"][0]["userid"] in ("zhangwei", "zhangwei2")


def test_outsiders_need_a_phone(wecom, session):
    chat(wecom, "zhangsan",
         "登记\n平台：抖音\n账号名称：文法\n账号ID：wenfa\n管理员：王老师 029-88886666")
    chat(wecom, "zhangsan", "确认")
    assert filings(session)[0].fields["admins"] == [
        {"userid": None, "name": "王老师", "phone": "029-88886666"}]


def test_duplicate_registration_names_the_filing_number(wecom, session):
    make_account(wecom.app)
    assert "WX-2025-0001" in chat(wecom, "zhangsan", "登记", "微信公众号", "文法", "wenfa2019")
    chat(wecom, "zhangsan", "取消")
    reply = chat(wecom, "zhangsan", "登记\n平台：微信公众号\n账号名称：又一个\n账号ID：wenfa2019")
    assert "WX-2025-0001" in reply
    pending = make_filing(wecom.app,
                          fields={"platform": "DY", "external_id": "dy123", "name": "抖文法"})
    chat(wecom, "zhangsan", "取消")
    reply = chat(wecom, "zhangsan", "登记\n平台：抖音\n账号名称：抖文法\n账号ID：dy123")
    assert f"#{pending}" in reply


def test_a_user_in_two_departments_chooses_one(wecom, session):
    reply = chat(wecom, "lisi", "申请")
    assert "多个部门" in reply and "文法学院" in reply and "开放教育学院" in reply
    assert "1. 新浪微博" in chat(wecom, "lisi", "2")
    chat(wecom, "lisi", "抖音", "开放视界", "招生宣传", "课程与招生", "默认", "默认")
    chat(wecom, "lisi", "确认")
    assert filings(session)[0].department_id == 8


def test_a_head_files_straight_to_the_office(wecom, session):
    chat(wecom, "liming",
         "申请\n平台：抖音\n拟用名称：文法视界\n申请理由：宣传\n内容定位：学院新闻")
    chat(wecom, "liming", "确认")
    assert filings(session)[0].status == "awaiting_office"


def test_report_flags_an_unregistered_account_with_the_school_name(wecom, session):
    reply = chat(wecom, "xuli", "举报\n平台：新浪微博\n账号名称：西安电大招生办\n链接：https://weibo.com/u/999999\n情况说明：冒充学校发布招生广告")
    assert "请核对" in reply
    done = chat(wecom, "xuli", "确认")
    assert "疑似冒用" in done
    [filing] = filings(session)
    assert (filing.kind == "report" and filing.status == "awaiting_tech"
            and filing.fields["suspected"])


def test_restart_mid_form_and_two_app_instances(wecom, app_env, clock, emulator, session):
    chat(wecom, "zhangsan", "登记", "抖音")
    other = WeComActions(create_app({"ENV": app_env, "CLOCK": clock, "OUTBOX_THREAD": False}),
                         emulator)
    assert "账号ID" in chat(other, "zhangsan", "文法视界")  # the "restarted" app continues
    assert "主页链接" in chat(wecom, "zhangsan", "wenfa_dy")  # back on the first instance
    assert "负责人" in chat(other, "zhangsan", "跳过")
    chat(wecom, "zhangsan", "默认", "默认", "跳过", "跳过")
    chat(other, "zhangsan", "确认")
    [filing] = filings(session)
    assert filing.fields["name"] == "文法视界" and filing.fields["external_id"] == "wenfa_dy"
    other.app.extensions["filingbot.engine"].dispose()


def test_query_lists_accounts_and_open_filings_with_more(wecom):
    for i in range(10):
        make_account(wecom.app, name=f"账号{i}", external_id=f"acc{i}",
                     filing_no=f"WX-2025-{i:04d}")
    make_filing(wecom.app, fields={"name": "待审账号"})
    first = chat(wecom, "zhangsan", "查询")
    assert "本部门账号 10 个，进行中的事项 1 件" in first and "账号0" in first and "更多" in first
    second = chat(wecom, "zhangsan", "更多")
    assert "账号9" in second and "待审账号" in second and "账号0" not in second


def test_a_change_to_what_the_account_already_has_is_asked_again(wecom, session):
    account_id = make_account(wecom.app, leader=("liming", "李明"), admins=("zhangsan",))
    account = session.get(Account, account_id)  # as a registration leaves it
    account.details = {**account.details,
                       "admins": [{"userid": "zhangsan", "name": "张三", "phone": None}]}
    session.commit()
    reply = chat(wecom, "zhangsan", "变更", "文法学院微信", "李明")
    assert "新负责人与账号现在的相同（李明），不用变更" in reply and "跳过" in reply
    reply = chat(wecom, "zhangsan", "跳过", "张三")
    assert "新管理员与账号现在的相同（张三），不用变更" in reply
    # a one-shot paste is checked the same way; the same name on another account is no change
    chat(wecom, "zhangsan", "取消")
    reply = chat(wecom, "zhangsan", "变更\n账号：WX-2025-0001\n新名称：文法学院微信\n原因：改名")
    assert "新名称与账号现在的相同（文法学院微信）" in reply
    assert "新名称：" not in reply  # not taken: the summary shows it missing
    chat(wecom, "zhangsan", "修改 新名称", "西安电大文法学院", "确认")
    [filing] = filings(session)
    assert filing.fields["new_name"] == "西安电大文法学院"
