"""`accounts seed-main`: the school's main accounts of article 9, run by publicity."""

from sqlalchemy import func, select

from models import Account, AuditLog
from tests.wecom import say, sync_and_grant


def accounts(session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.id)))


def test_the_main_accounts_are_registered_once_for_publicity(runner, session):
    sync_and_grant(runner, [("wujiu", "publicity")])
    first = runner.invoke(args=["accounts", "seed-main"])
    assert first.exit_code == 0, first.output
    assert first.output.count("已登记") == 2
    seeded = accounts(session)
    assert [(a.platform, a.external_id, a.name) for a in seeded] == [
        ("WB", "3512771853", "西安电大宣传办"), ("WX", "xartvu1979", "西安广播电视大学")]
    assert {a.department_id for a in seeded} == {3}  # 宣传部
    assert {a.status for a in seeded} == {"active"}
    assert [a.filing_no[:8] for a in seeded] == ["WB-2026-", "WX-2026-"]
    assert seeded[0].details["leader"]["userid"] == "zhouba"  # 宣传部's WeCom leader
    assert [p["userid"] for p in seeded[0].details["admins"]] == ["wujiu"]
    assert seeded[0].admin_userids == ["wujiu"]
    assert seeded[0].details["homepage"] == "https://weibo.com/u/3512771853"

    again = runner.invoke(args=["accounts", "seed-main"])
    assert again.exit_code == 0 and again.output.count("已在台账中") == 2
    assert [a.filing_no for a in accounts(session)] == [a.filing_no for a in seeded]
    assert session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "account:seed")) == 2


def test_named_administrators_and_department(runner, session):
    sync_and_grant(runner, [])
    result = runner.invoke(args=["accounts", "seed-main", "--department", "4",
                                 "--admin", "chenyi", "--admin", "chenyi"])
    assert result.exit_code == 0, result.output
    assert {a.department_id for a in accounts(session)} == {4}
    assert {tuple(a.admin_userids) for a in accounts(session)} == {("chenyi",)}


def test_bad_input_says_what_is_wrong_and_writes_nothing(runner, session):
    before_sync = runner.invoke(args=["accounts", "seed-main"])
    assert before_sync.exit_code != 0 and "宣传部" in before_sync.output
    sync_and_grant(runner, [])
    no_department = runner.invoke(args=["accounts", "seed-main", "--department", "99"])
    assert no_department.exit_code != 0 and "找不到部门 99" in no_department.output
    no_member = runner.invoke(args=["accounts", "seed-main", "--admin", "nobody"])
    assert no_member.exit_code != 0 and "没有成员 nobody" in no_member.output
    assert accounts(session) == []


def test_publicity_staff_find_the_seeded_accounts_in_their_annual_review(runner, wecom, session):
    sync_and_grant(runner, [("wujiu", "publicity")])
    assert runner.invoke(args=["accounts", "seed-main"]).exit_code == 0
    question = say(wecom, "wujiu", "年检")
    assert "西安电大宣传办" in question and "西安广播电视大学" in question
