"""`flask --app bot console` goes through the running server: piped paragraphs and taps against
gunicorn, every reply shown in order and once, nothing delivered twice, nothing left sending."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from models import Filing, OutboxMessage

ONE_SHOT = """登记
平台：抖音
账号名称：文法学院抖音号
账号ID：wfxy_dy
主页链接：https://www.douyin.com/user/wfxy
负责人：李明
管理员：张三
用途：学院短视频
开通时间：2020年1月"""


def positions(output: str, *markers: str) -> list[int]:
    """Where each marker first appears after the previous one (-1 when it does not)."""
    found, start = [], 0
    for marker in markers:
        index = output.find(marker, start)
        found.append(index)
        if index >= 0:
            start = index + len(marker)
    return found


def test_a_piped_console_session_plays_an_approval_through_gunicorn(sandbox_server, session):
    script = "\n".join([ONE_SHOT, "", "确认", "/send", "/as liming", "/tap 1", "/as wangwu",
                        "/tap 1", "/as zhangsan", ""]) + "\n"
    result = sandbox_server.flask("console", "--as", "zhangsan", "--server", sandbox_server.url,
                                  stdin=script)
    output = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    # Each reply right after what caused it, before the next input: in order, none late.
    marks = positions(output, "zhangsan> 登记", "    账号名称：文法学院抖音号",
                      "🤖 请核对【官方账号登记（附表1）】", "zhangsan> 确认", "🤖 已提交",
                      "zhangsan> /as liming", "┌─ 卡片 1: 部门确认", "[1] 确认  [2] 退回",
                      "liming> /tap 1", "已确认", "liming> /as wangwu",
                      "┌─ 卡片 1: 党政办审核", "wangwu> /tap 1", "已批准", "wangwu> /as zhangsan",
                      "已由部门负责人李明确认", "王五批准，备案编号：DY-")
    assert -1 not in marks, output
    assert output.count("🤖 已提交") == 1 and output.count("王五批准，备案编号：DY-") == 1
    filing = session.scalar(select(Filing))
    assert filing.status == "approved"

    # No message reached a phone twice (the emulator's inbox is shared by every process).
    emulator = sandbox_server.emulator
    for userid in ("zhangsan", "liming", "wangwu"):
        received = [str(m["body"]) for m in emulator.inbox(userid)]
        assert received and max(Counter(received).values()) == 1, received
    # The console sent nothing itself and left nothing half-sent.
    rows = session.scalars(select(OutboxMessage)).all()
    assert rows and {r.status for r in rows} == {"sent"}


def test_the_console_shows_only_what_is_new_unless_asked_for_history(sandbox_server):
    first = sandbox_server.flask("console", "--as", "zhangsan", "--server", sandbox_server.url,
                                 stdin="帮助\n\n你好\n\n")
    assert first.stdout.count("🤖 ") == 2, first.stdout
    again = sandbox_server.flask("console", "--as", "zhangsan", "--server", sandbox_server.url,
                                 stdin="\n")
    assert "🤖" not in again.stdout and "你好" not in again.stdout
    history = sandbox_server.flask("console", "--as", "zhangsan", "--server", sandbox_server.url,
                                   "--history", "2", stdin="")
    assert "zhangsan> 你好" in history.stdout and "没有看懂“你好”" in history.stdout
    assert "zhangsan> 帮助" not in history.stdout


def test_without_a_server_the_console_says_it_cannot_reach_it(sandbox_server):
    result = sandbox_server.flask("console", "--as", "zhangsan", "--server",
                                  "http://127.0.0.1:9", stdin="帮助\n\n")
    assert "连不上 http://127.0.0.1:9" in result.stdout and result.returncode == 0
