"""The six filing forms of the regulation (SPEC §3): 登记 附表1, 申请 附表2, 变更, 年检 附表3,
注销, 举报 (art. 14). Field order is the order the bot asks in."""

from __future__ import annotations

from workflow.forms.spec import Field, FormSpec

PLATFORM = Field("platform", "平台", "platform", "账号在哪个平台？")

REGISTER = FormSpec("register", "登记", ("register",), "官方账号登记（附表1）", (
    PLATFORM,
    Field("name", "账号名称", "text", "账号名称是什么？（平台上显示的名字）", max_len=50),
    Field("external_id", "账号ID", "account_id",
          "账号ID是什么？（微信号 / 微博UID或主页链接 / 其他平台的链接或账号）", max_len=200),
    Field("homepage", "主页链接", "url", "账号主页链接？（http/https 开头）",
          optional=True, on_card=False),
    Field("leader", "负责人", "person", "责任部门负责人是谁？（姓名或企业微信账号，可附手机号）"),
    Field("admins", "管理员", "person", "账号管理员是谁？（姓名或企业微信账号，可附手机号）"),
    Field("purpose", "用途", "text", "账号主要用途？", optional=True, max_len=200,
          multiline=True),
    Field("opened", "开通时间", "month", "账号开通时间？（如 2019-09 或 2019年9月）",
          optional=True),
))

APPLY = FormSpec("apply", "申请", ("apply",), "新建官方账号申请（附表2）", (
    PLATFORM,
    Field("name", "拟用名称", "text", "拟用的账号名称？", max_len=50),
    Field("reason", "申请理由", "text", "为什么需要新建这个账号？", max_len=500, multiline=True),
    Field("positioning", "内容定位", "text", "账号的内容定位（发布哪些内容、面向谁）？",
          max_len=300, multiline=True),
    Field("leader", "负责人", "person", "责任部门负责人是谁？（姓名或企业微信账号，可附手机号）"),
    Field("admins", "管理员", "person", "账号管理员是谁？（姓名或企业微信账号，可附手机号）"),
))

CHANGE = FormSpec("change", "变更", ("change",), "账号变更备案", (
    Field("account", "账号", "account", "哪个账号发生了变更？"),
    Field("new_leader", "新负责人", "person", "新的负责人是谁？", optional=True),
    Field("new_admins", "新管理员", "person", "新的管理员是谁？", optional=True),
    # a renamed or moved account: the same rules as 登记's 账号名称, 平台 and 账号ID
    Field("new_name", "新名称", "text", "账号在平台上改名了吗？新的账号名称是？", optional=True,
          max_len=50),
    Field("new_platform", "新平台", "platform", "账号换了平台吗？新的平台是？", optional=True),
    Field("new_external_id", "新账号ID", "account_id",
          "账号ID变了吗？新的账号ID是？（微信号 / 微博UID或主页链接 / 其他平台的链接或账号）",
          optional=True, max_len=200),
    Field("reason", "原因", "text", "变更原因？", max_len=300, multiline=True),
))

ANNUAL = FormSpec("annual", "年检", ("annual", "review"), "年度检查报告（附表3）", (
    Field("account", "账号", "account", "为哪个账号提交年检？"),
    Field("year", "年度", "year", "检查哪一年度？"),
    Field("posts", "发文数量", "count", "该年度共发布多少条信息？"),
    Field("followers", "粉丝数", "count", "目前粉丝（关注）数？"),
    Field("review_rule", "审核制度", "yes_no", "信息发布前是否都经部门主要负责同志审核？（是/否）"),
    Field("dedicated", "专人管理", "yes_no", "是否明确专人负责日常管理和维护？（是/否）"),
    Field("incidents", "安全事件", "safety", "该年度有无信息安全事件？（无，或简述情况）",
          multiline=True),
    Field("remarks", "自查说明", "text", "其他自查说明？", optional=True, max_len=500,
          on_card=False, multiline=True),
))

CLOSE = FormSpec("close", "注销", ("close",), "账号注销申请", (
    Field("account", "账号", "account", "要注销哪个账号？"),
    Field("reason", "原因", "text", "注销原因？", max_len=300, multiline=True),
))

REPORT = FormSpec("report", "举报", ("report",), "冒用学校名义账号举报", (
    PLATFORM,
    Field("name", "账号名称", "text", "可疑账号的名称？", max_len=50),
    Field("link", "链接", "account_id", "账号链接或账号ID？", max_len=300),
    Field("details", "情况说明", "text", "请简述情况（如何冒用、发现时间等）", max_len=500,
          multiline=True),
), per_department=False)

FORMS: dict[str, FormSpec] = {f.kind: f for f in (REGISTER, APPLY, CHANGE, ANNUAL, CLOSE, REPORT)}


def form_for_command(word: str) -> FormSpec | None:
    """The form started by a command word (登记, register, …)."""
    word = word.lower()
    return next((f for f in FORMS.values() if word == f.command or word in f.aliases), None)
