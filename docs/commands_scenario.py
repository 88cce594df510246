"""The scenario docs/make_commands.py replays into docs/commands.md: the prose before the first
section (docs/commands_intro.md), then each section's transcripts as steps (Say, Tap, Switch,
Cli, Clock, Advance, Hidden): edit these, then run `python docs/make_commands.py`."""

from datetime import datetime
from pathlib import Path

from make_commands import Advance, Block, Cli, Clock, Hidden, Say, Section, Switch, Tap

HEADER = (Path(__file__).parent / "commands_intro.md").read_text(encoding="utf-8")

Z, LM, LS, XL, GF, WW, ZS = "zhangsan", "liming", "lisi", "xuli", "gaofeng", "wangwu", "zhengshi"


def says(user, *texts, show="none"):
    """Several messages from one user, shown as `show` says."""
    return [Say(user, t, show) for t in texts]


REMINDERS_INTRO = (
    "`flask --app bot reminders run` 每天运行一次（或由 `w"
    "orker` 在 `REMINDER_TIME` 自动运行），在年检期（默认 1 月 1"
    " 日至 3 月 31 日）内：\n"
    "\n"
    "- **账号管理员**：每个“正常”账号还没有上一年度年检时，每 7 天一张“年检提醒”"
    "卡片，点账号就开始该账号的年检；\n"
    "- **部门负责人**：同一账号第 3 次提醒时收到“年检督办”；本部门既没有正常账号、"
    "也没报零报告（未回复）时收到“年检通知”，可回复 `零报告`；\n"
    "  “年检通知”每 7 天一次，先发给本部门管理过账号或办理过备案的人（请负责人报零报告"
    "或补登账号），第 3 次起也发负责人；部门里没有这样的人时，第 1 次就发负责人；\n"
    "  他的审批待办超过 3 天未处理时收到“催办”（每 2 天一次，最多 3 次），卡片过"
    "期的会重发；\n"
    "- **党政办公室**：年检期内每周一一份“年检周报”，年检期结束后一份“最终报告”，"
    "都列出未回复的部门。\n"
    "- **限期整改、责令注销的期限**：管理员收到“整改期限提醒”（发送“查询 事项编号”看详情），"
    "期限过了仍未办完时党政办公室收到“逾期督办”。\n"
    "\n"
    "在沙箱里试：`flask --app bot reminders run --today"
    " 2027-01-04`（可先加 `--dry-run` 只看数量），再 `flask "
    "--app bot outbox drain`，\n"
    "然后用 `console --as zhangsan` 查看（控制台每发一条消息都会自己"
    "清空发件箱）。\n"
    "**注意**：`--today` 只改变“今天算哪天”（催办的等待天数按那天 9:00 "
    "计算），消息按真实时间排进发件箱，所以随后的 `outbox drain` 立即发出。提"
    "醒在免打扰时段（默认 21:00–08:00）内不发，等时段结束再发。点年检提醒卡片上的"
    "账号，回复会写明账号和年度，然后逐项询问其余各项（包括选填的“自查说明”，可回“跳过”）"
    "。\n"
    "下面的例子是在上文同一个数据库上、把应用时钟设在所示日期 10:00 跑出来的（CLI "
    "命令在同一进程内执行，输出原样）：\n"
)


SECTIONS = [
    Section("帮助", [Block("", [
        Say(Z, "帮助", (1, 1)),
        Say(Z, "你好"),
    ])]),
    Section("登记", [
        Block("逐项问答，用到 `跳过`、`默认`，选填项回“无”也算跳过：", [
            Say(Z, "登记"), Say(Z, "3"), Say(Z, "西安电大文法学院"), Say(Z, "wfxy2016"),
            Say(Z, "跳过"), Say(Z, "默认"), Say(Z, "默认"), Say(Z, "无"), Say(Z, "2019年9月"),
            Say(Z, "确认"),
        ]),
        Block("一次性填写：先要模板，整段发回。认不出的字段和不是“字段：值”的行会被指出；"
              "核对页上 `修改 管理员`，重名时选序号：", [
            Say(Z, "登记 模板", (4, 0)),
            Say(Z, "登记\n平台：抖音\n账号名称：文法学院抖音号\n账号ID：wfxy_dy\n负责人：李明\n"
                   "网址：https://www.douyin.com/user/wfxy\n这是学院的官方抖音号"),
            Say(Z, "修改 管理员"), Say(Z, "张伟"), Say(Z, "2"), Say(Z, "确认"),
        ]),
        Block("检查：微信号格式、密码、同一账号重复登记：", [
            Say(Z, "登记", (1, 0)), Say(Z, "3"), Say(Z, "文法学院"), Say(Z, "文法学院公众号"),
            Say(Z, "密码：abc123"), Say(Z, "wfxy2016"), Say(Z, "取消"),
        ]),
    ]),
    Section("申请", [
        Block("`返回` 回到上一题；核对页上 `修改` 后面要写完整的字段名：", [
            Say(Z, "申请", (1, 0)), Say(Z, "微信视频号"), Say(Z, "返回", (1, 0)), Say(Z, "4"),
            Say(Z, "文法学院视频号"), Say(Z, "发布学院活动视频"),
            Say(Z, "学院新闻、课堂实录，面向学生和校友"), Say(Z, "默认"), Say(Z, "默认"),
            Say(Z, "修改 理由"), Say(Z, "修改 申请理由"), Say(Z, "展示学院教学活动和学生风采"),
            Say(Z, "确认"),
        ]),
        Block("在两个部门的人先选部门（序号不对会再问）：", [
            Say(LS, "申请\n平台：哔哩哔哩\n拟用名称：文法学院B站\n申请理由：发布课程视频\n"
                    "内容定位：公开课、讲座回放，面向学生和社会学习者"),
            Say(LS, "3"), Say(LS, "1"), Say(LS, "确认"),
        ]),
    ]),
    Section("审批：卡片、待办、同意、驳回、撤回", [
        Block("张三又申请了一个抖音号（#5）、登记了两个账号（#6、#7），随即撤回 #7：", [
            Hidden([
                Say(Z, "申请\n平台：抖音\n拟用名称：文法学院抖音\n申请理由：发布短视频\n"
                       "内容定位：校园生活短视频\n负责人：李明\n管理员：张三"),
                Say(Z, "确认"),
                Say(Z, "登记\n平台：新浪微博\n账号名称：文法学院微博\n账号ID：1234567890\n"
                       "负责人：李明\n管理员：张三"),
                Say(Z, "确认"),
                Say(Z, "登记\n平台：快手\n账号名称：文法学院快手\n账号ID：wfxy_ks\n"
                       "负责人：李明\n管理员：张三"),
                Say(Z, "确认"),
            ], gap=False),
            Say(Z, "撤回 7"), Say(Z, "撤回 99"),
        ]),
        Block("李明每件事收到一张卡片（下面只留一张）。`待办` 列出未处理的事项；`同意` "
              "要带编号；点“退回”后机器人请他写理由，先给他核对，回“确认”才转告申请人：", [
            Switch(LM, 1),
            Say(LM, "待办"),
            Say(LM, "同意"), Say(LM, "同意 1"),
            Tap(LM, 2, card=2),
            Say(LM, "请改用学院统一的抖音号名称"), Say(LM, "确认"),
            Say(LM, "驳回 6 请用学院全称作为账号名称"),
            Say(LM, "同意 3"), Say(LM, "同意 5"),
        ]),
        Block("王五（党政办公室）同样用卡片或文字审批（用的词不适合当前环节"
              "时，会告诉他可以回什么）；"
              "新建账号批准后转技术中心，郑十点“已开通”后回复账号 ID：", [
            Switch(WW, 1),
            Say(WW, "待办"),
            Say(WW, "合格 1"), Say(WW, "同意 1"),
            Tap(WW, 1, card=2),
            Say(WW, "同意 3"),
            Say(WW, "驳回 5 名称与学校官方抖音号重复"),
            Switch(ZS, "all"),
            Tap(ZS, 1),
            Say(ZS, "wfxy-sph"),
        ]),
        Block("张三收到的通知；已有审批意见的不能撤回：", [
            Switch(Z, "all"),
            Say(Z, "撤回 1"),
            Say(Z, "待办"),
        ]),
    ]),
    Section("变更", [
        Block("本部门没有已备案账号时（徐丽），变更、年检、注销都会这样回答：", [
            Say(XL, "变更"),
        ]),
        Block("新负责人、新管理员、新名称、新平台、新账号ID都是选填，但至"
              "少要填一项（账号在平台上改名或换号"
              "也用“变更”）（张三随后又用一次性填写提交了 #9，给视频号"
              "加了管理员李四，又登记了 2018 年开通的学院微博"
              " #10；李明、王五都已同意）：", [
            Say(Z, "变更"), Say(Z, "文法学院"), Say(Z, "1"),
            Say(Z, "跳过"), Say(Z, "跳过"), Say(Z, "跳过"), Say(Z, "跳过"), Say(Z, "跳过"),
            Say(Z, "岗位调整"), Say(Z, "确认"),
            Say(Z, "修改 新管理员"), Say(Z, "张三、李四"), Say(Z, "确认"),
            Hidden([
                Say(Z, "变更\n账号：SPH-2026-0002\n新管理员：张三、李四\n原因：工作安排"),
                Say(Z, "确认"),
                Say(LM, "同意 8"), Say(LM, "同意 9"), Say(WW, "同意 8"), Say(WW, "同意 9"),
                Say(Z, "登记\n平台：新浪微博\n账号名称：西安电大文法学院微博\n账号ID：2718281828\n"
                       "负责人：李明\n管理员：张三\n开通时间：2018年3月"),
                Say(Z, "确认"),
                Say(LM, "同意 10"), Say(WW, "同意 10"),
            ], gap=False),
        ]),
    ]),
    Section("年检", [
        Block("数量可写 `1.2万`、`3,000`；是/否题只认是/否：", [
            Say(Z, "年检", (1, 0)), Say(Z, "1"), Say(Z, "默认"), Say(Z, "2026"), Say(Z, "1.2万"),
            Say(Z, "365"), Say(Z, "是的"), Say(Z, "是"), Say(Z, "无"), Say(Z, "跳过"),
            Say(Z, "确认"),
        ]),
        Block("一次性填写中有不合格的项，只重问这一项；再发一次 `年检` "
              "附上改正的字段，会并入正在填的表单：", [
            Say(Z, "年检\n账号：WB-2026-0003\n年度：2030\n发文数量：120\n粉丝数：3,000\n"
                   "审核制度：是\n专人管理：是\n安全事件：无"),
            Say(Z, "年检\n年度：2025"),
            Say(Z, "确认"),
        ]),
        Block("李明确认后，王五的“年度审核”卡片有三个结论；也可以用文字 "
              "`合格` / `整改` / `不合格` 加编号，"
              "后面的文字就是整改要求或意见（同时发给部门负责人）。不合格时账号变为“责令注销”，"
              "并建立一件注销事项（这里是 #13）：", [
            Hidden([Say(LM, "同意 11"), Say(LM, "同意 12")], gap=False),
            Switch(WW, 1),
            Say(WW, "整改 11 补齐2025年信息审核记录，3月31日前完成"),
            Say(WW, "不合格 12 全年仅发布2条信息，账号长期停更"),
            Switch(Z, "all"),
        ]),
    ]),
    Section("注销", [
        Block("部门用 `注销` 办理（自愿注销也是同样的流程）。被责令注销"
              "的账号注销获批后，注销事项 #13 "
              "自动办结（见下文 `查询 wb-2026-0003`）：", [
            Say(Z, "注销"), Say(Z, "3"), Say(Z, "年检不合格，学校责令注销"), Say(Z, "确认"),
            Switch(LM, "none"),
            Say(LM, "同意 14"),
            Switch(WW, "none"),
            Say(WW, "同意 14"),
            Switch(Z, "all"),
            Tap(Z, 1),
            Say(Z, "2026年11月25日"),
        ]),
    ]),
    Section("举报", [
        Block("举报不需要部门，直接送技术中心；名称含学校名称且不在台账中的标为疑似冒用：", [
            Say(Z, "举报", "none"), Say(Z, "3", "none"), Say(Z, "西安电大招生咨询", "none"),
            Say(Z, "xadd_zs2026", "none"), Say(Z, "冒充学校发布招生信息，11月发现"),
            Say(Z, "确认"),
            Switch(ZS, "all"),
            Tap(ZS, 1),
            Switch(Z, "all"),
        ]),
    ]),
    Section("查询、更多", [
        Block("`查询 编号` 看一件事项（每个字段、经过和审批意见），`查"
              "询 备案编号` 看一个账号（不分大小写；"
              "先列相关事项，再逐行列出变动记录）；`查询` 列出本部门的账号和进行中的事项：", [
            Say(Z, "查询 15"), Say(Z, "查询 11"), Say(Z, "查询"), Say(Z, "更多"),
            Say(Z, "查询 wb-2026-0003"), Say(Z, "查询 DY-2026-9999"),
        ]),
    ]),
    Section("零报告", [
        Block("只有部门负责人能报，且本部门没有正常运营的账号；记录的是上一年度：", [
            Say(XL, "零报告"), Say(GF, "零报告"), Say(LM, "零报告"),
        ]),
    ]),
    Section("中途发新指令、取消、超时", [
        Block("填表时发另一个表单指令，先问要不要放弃当前表单，只认“是 /"
              " 否”；`修改 平台` 在任何一题都能回到"
              "那一项；查询、帮助等照常回答，表单原地等待：", [
            Say(Z, "登记", (1, 0)), Say(Z, "微信公众号"), Say(Z, "举报"), Say(Z, "好的"),
            Say(Z, "否"), Say(Z, "修改 平台", (1, 0)), Say(Z, "抖音"), Say(Z, "待办"),
            Say(Z, "申请"), Say(Z, "是", (1, 0)), Say(Z, "取消"),
            Say(Z, "登记", (1, 0)), Say(Z, "3"),
            Advance(31, "（…31 分钟后…）"),
            Say(Z, "西安电大文法学院"),
        ]),
    ]),
    Section("提醒", [
        Block(REMINDERS_INTRO, [
            Clock(datetime(2027, 1, 4, 10, 0)),
            Cli("reminders run --today 2027-01-04 --dry-run"),
            Cli("reminders run --today 2027-01-04"),
            Cli("outbox drain"),
            Switch(Z, "all"),
            Tap(Z, 1, show=(3, 0)),
            Say(Z, "取消"),
            Switch(LM, 2),
            Switch(GF, "all"),
            Say(GF, "零报告"),
            Switch(WW, "all"),
        ]),
        Block("同一天再运行不会重复发送。1 月 11 日、18 日（时钟改"
              "到当天）再运行：张三收到第 2、3 次提醒，"
              "第 3 次时李明收到督办（催办每 2 天一次，最多 3 次）"
              "；年检期结束后（4 月 1 日）党政办收到最终报告：", [
            Cli("reminders run --today 2027-01-04"),
            Clock(datetime(2027, 1, 11, 10, 0)),
            Cli("reminders run --today 2027-01-11"),
            Clock(datetime(2027, 1, 18, 10, 0)),
            Cli("reminders run --today 2027-01-18"),
            Cli("outbox drain"),
            Switch(Z, "all", only=("第3次",)),
            Switch(LM, "all", only=("催办", "督办")),
            Clock(datetime(2027, 4, 1, 10, 0)),
            Cli("reminders run --today 2027-04-01"),
            Cli("outbox drain"),
            Switch(WW, "all", only=("最终报告",)),
        ]),
    ]),
]
