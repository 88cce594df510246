"""`flask --app bot console --as USERID`: chat with the bot as a demo user through the emulator.

Every line typed goes through the real encrypted callback; what the bot sends comes back
through the emulator's message/send. Cards are shown as text with numbered buttons."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.wecom.emulator import Phone, flask_target
from bot.wecom.emulator.cards import button_keys

HELP = ("输入文字与机器人对话；/tap N 点击最新卡片的第 N 个按钮（/tap C N 指定第 C 张卡片）；"
        "/as 用户 切换身份；/quit 退出")


@click.command("console")
@click.option("--as", "userid", default="zhangsan", show_default=True,
              help="Demo userid to chat as.")
@with_appcontext
def console_command(userid: str) -> None:
    """Chat with the bot in the terminal (sandbox mode)."""
    app = current_app._get_current_object()
    emulator = app.extensions.get("filingbot.emulator")
    if emulator is None:
        raise click.UsageError("console 仅在沙箱模式下可用（未配置 WECOM_* 变量时）")
    phone = Phone(emulator, flask_target(app))
    session = ConsoleSession(app, phone, userid)
    click.echo(HELP)
    session.show_new()
    while True:
        try:
            line = click.prompt(f"{session.userid}", prompt_suffix="> ", default="",
                                show_default=False)
        except (EOFError, click.Abort):
            break
        if line.strip() in ("/quit", "/exit"):
            break
        session.handle(line)


class ConsoleSession:
    """One terminal's view of a member's phone."""

    def __init__(self, app, phone: Phone, userid: str):
        self.app, self.phone, self.userid = app, phone, userid
        self.cards: dict[str, list[str]] = {}  # per user: task ids in the order shown
        self.last_seen = {}

    def handle(self, line: str) -> None:
        words = line.strip().split()
        if not words:
            return self.show_new()
        if words[0] == "/as" and len(words) == 2:
            self.userid = words[1]
            return self.show_new()
        if words[0] == "/tap":
            return self.tap(words[1:])
        self.phone.say(self.userid, line)
        self.deliver_and_show()

    def tap(self, args: list[str]) -> None:
        try:
            numbers = [int(a) for a in args]
            cards = self.cards.get(self.userid, [])
            card_no, button_no = (len(cards), numbers[0]) if len(numbers) == 1 else numbers
            if not cards or not 1 <= card_no <= len(cards):
                raise IndexError(f"{self.userid} 没有第 {card_no} 张卡片")
            task_id = cards[card_no - 1]
            view = self.phone.emulator.card_view(task_id, self.userid)
            key = button_keys(view["card"])[button_no - 1]
            self.phone.tap(self.userid, task_id, key)
        except (ValueError, IndexError, TypeError, LookupError) as exc:
            click.echo(f"无法点击：{exc}")
            return
        self.deliver_and_show()

    def deliver_and_show(self) -> None:
        self.app.extensions["filingbot.dispatcher"].drain()
        self.show_new()

    def show_new(self) -> None:
        after = self.last_seen.get(self.userid, 0)
        for item in self.phone.emulator.inbox(self.userid, after_id=after):
            self.last_seen[self.userid] = item["id"]
            if item["msgtype"] == "template_card":
                cards = self.cards.setdefault(self.userid, [])
                cards.append(item["task_id"])
                click.echo(render_card(len(cards), item["body"]))
            else:
                click.echo("🤖 " + str(item["body"].get("content", item["body"])))


def render_card(number: int, card: dict) -> str:
    """A template card as terminal text with numbered buttons."""
    lines = [f"┌─ 卡片 {number}: {card.get('main_title', {}).get('title', '')}"]
    if card.get("main_title", {}).get("desc"):
        lines.append(f"│ {card['main_title']['desc']}")
    if card.get("sub_title_text"):
        lines.append(f"│ {card['sub_title_text']}")
    for row in card.get("horizontal_content_list", []):
        lines.append(f"│ {row.get('keyname')}：{row.get('value', '')}")
    buttons = [b for b in card.get("button_list", []) if b.get("type", 0) != 1]
    lines.append("└ " + "  ".join(f"[{i}] {b['text']}" for i, b in enumerate(buttons, 1)))
    return "\n".join(lines)
