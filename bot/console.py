"""`flask --app bot console --as USERID [--server URL]`: chat with the running bot as a demo
member, in a terminal (the terminal twin of /sandbox).

A message is a paragraph: lines are gathered until an empty line or `/send`, so a one-shot
`字段：值` form is one message. It is signed and encrypted as WeCom does and POSTed to the
server's /wecom/callback; the console sends nothing itself: the server's dispatcher delivers
the bot's messages through the emulator (shared by every process), and the console shows what
reached the member's phone, each message once and in order. Only what is new is shown
(`--history N` shows the last N messages first)."""

from __future__ import annotations

import sys
import time

import click
import requests
from flask import current_app
from flask.cli import with_appcontext

from bot.outbox.waiting import describe, waiting
from bot.render import render_text
from bot.wecom.emulator import Phone, http_target
from bot.wecom.emulator.cards import button_keys

SETTLE_POLL = 0.1  # seconds between looks at the outbox while replies are on their way


@click.command("console")
@click.option("--as", "userid", default="zhangsan", show_default=True,
              help="Demo userid to chat as.")
@click.option("--server", default="http://127.0.0.1:5000", show_default=True,
              help="The running bot (flask --app bot run, or gunicorn).")
@click.option("--history", default=0, show_default=True, type=click.IntRange(0),
              help="Show the last N messages of the conversation first.")
@click.option("--wait", default=10.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait for the server to deliver the replies to a message.")
@with_appcontext
def console_command(userid: str, server: str, history: int, wait: float) -> None:
    """Chat with the running bot in the terminal (sandbox mode)."""
    app = current_app._get_current_object()
    emulator = app.extensions.get("filingbot.emulator")
    if emulator is None:
        raise click.UsageError(render_text("sandbox/console/not_sandbox"))
    if not {u[0] for u in emulator.users} >= {userid}:
        raise click.UsageError(render_text("sandbox/console/unknown_user", userid=userid))
    callback = server.rstrip("/") + "/wecom/callback"
    session = ConsoleSession(app, Phone(emulator, http_target(callback)), userid, server, wait)
    click.echo(render_text("sandbox/console/help", server=server))
    session.show_history(history)
    session.run(sys.stdin)


class ConsoleSession:
    """One terminal's view of the members' phones."""

    def __init__(self, app, phone: Phone, userid: str, server: str, wait: float):
        self.app, self.phone, self.userid, self.server, self.wait = app, phone, userid, server, wait
        self.start = phone.emulator.last_inbox_id()  # "only what is new" starts here
        self.last_seen: dict[str, int] = {}
        self.cards: dict[str, list[str]] = {}  # per member: task ids in the order shown
        self.interactive = sys.stdin.isatty()

    # --- input ---------------------------------------------------------------------------
    def run(self, stream) -> None:
        """Read paragraphs until end of input or /quit."""
        paragraph: list[str] = []
        while True:
            line = self.read_line(stream, continued=bool(paragraph))
            if line is None:
                break
            stripped = line.strip()
            if not paragraph and stripped.startswith("/") and stripped != "/send":
                if stripped in ("/quit", "/exit"):
                    return
                self.command(stripped.split())
            elif stripped in ("", "/send"):
                if paragraph:
                    self.say("\n".join(paragraph))
                    paragraph = []
                else:
                    self.show_new()
            else:
                paragraph.append(line.rstrip("\n"))
        if paragraph:
            self.say("\n".join(paragraph))

    def read_line(self, stream, *, continued: bool) -> str | None:
        """The next line typed (None at the end); piped lines are echoed like a transcript."""
        prompt = "  … " if continued else f"{self.userid}> "
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = stream.readline()
        if not line:
            return None
        if line.strip():
            click.echo(("    " if continued else prompt) + line.rstrip("\n"))
        return line

    def command(self, words: list[str]) -> None:
        """/tap N, /tap C N, /as USERID, /history N."""
        if words[0] == "/as" and len(words) == 2:
            if words[1] not in {u[0] for u in self.phone.emulator.users}:
                return click.echo(render_text("sandbox/console/unknown_user", userid=words[1]))
            self.userid = words[1]
            return self.show_new()
        if words[0] == "/tap":
            return self.tap(words[1:])
        if words[0] == "/history" and len(words) == 2 and words[1].isdigit():
            return self.show_history(int(words[1]))
        click.echo(render_text("sandbox/console/help", server=self.server))

    # --- acting --------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """Send one message (a paragraph) and show what comes back."""
        self.deliver(lambda: self.phone.say(self.userid, text))

    def tap(self, args: list[str]) -> None:
        """Tap button N of the latest card, or of card C."""
        cards = self.cards.get(self.userid, [])
        try:
            numbers = [int(a) for a in args]
            card_no, button_no = (len(cards), numbers[0]) if len(numbers) == 1 else numbers
        except (ValueError, IndexError):
            return click.echo(render_text("sandbox/console/tap_usage"))
        if not 1 <= card_no <= len(cards):
            return click.echo(render_text("sandbox/console/no_card", card=card_no))
        task_id = cards[card_no - 1]
        view = self.phone.emulator.card_view(task_id, self.userid)
        if view["replace_name"]:
            return click.echo(render_text("sandbox/console/greyed", card=card_no,
                                          replace_name=view["replace_name"]))
        keys = button_keys(view["card"])
        if not 1 <= button_no <= len(keys):
            return click.echo(render_text("sandbox/console/no_button", card=card_no,
                                          button=button_no))
        self.deliver(lambda: self.phone.tap(self.userid, task_id, keys[button_no - 1]))

    def deliver(self, post) -> None:
        """Post a callback, wait until the server has delivered what it caused, show it."""
        try:
            delivery = post()
        except requests.RequestException as exc:
            return click.echo(render_text("sandbox/console/unreachable", server=self.server,
                                          error=type(exc).__name__))
        except LookupError:  # the card was decided meanwhile, on another phone
            return self.show_new()
        if delivery.status != 200:
            click.echo(render_text("sandbox/console/callback_failed", status=delivery.status))
        self.settle()
        self.show_new()

    def settle(self) -> None:
        """Wait (up to --wait seconds) until the outbox holds nothing the server could send
        now; then say what is held back and why, or that the server is not delivering."""
        engine, clock = self.app.extensions["filingbot.engine"], self.app.extensions[
            "filingbot.clock"]
        quiet = self.app.config["SETTINGS"].reminder_quiet_hours
        deadline = time.monotonic() + self.wait
        while True:
            state = waiting(engine, clock.now(), quiet)
            if not state.due or time.monotonic() >= deadline:
                break
            time.sleep(SETTLE_POLL)
        self.show_new()
        if state.due:
            click.echo(render_text("sandbox/console/not_delivering", count=state.due,
                                   seconds=self.wait))
        held = describe(state, quiet, clock.local_now())
        if held:
            click.echo(held)

    # --- showing -------------------------------------------------------------------------
    def show_history(self, count: int) -> None:
        """Show the last `count` messages of the current member (theirs and the bot's)."""
        if count:
            rows = self.phone.emulator.inbox(self.userid, own=True)
            self.show(rows[-count:])
        self.last_seen[self.userid] = max(self.last_seen.get(self.userid, self.start),
                                          self.start)

    def show_new(self) -> None:
        """Show what reached the current member since last shown, once, in order."""
        after = self.last_seen.get(self.userid, self.start)
        self.show(self.phone.emulator.inbox(self.userid, after_id=after))

    def show(self, rows: list[dict]) -> None:
        """Print inbox rows: the member's own lines, the bot's texts, cards with their buttons."""
        for item in rows:
            self.last_seen[self.userid] = max(item["id"], self.last_seen.get(self.userid, 0))
            if item["source"] == "member":
                click.echo(f"{self.userid}> " + str(item["body"].get("content", "")))
            elif item["msgtype"] == "template_card":
                cards = self.cards.setdefault(self.userid, [])
                cards.append(item["task_id"])
                view = self.phone.emulator.card_view(item["task_id"], self.userid)
                click.echo(render_card(len(cards), view["card"] if view else item["body"],
                                       view["replace_name"] if view else None))
            else:
                click.echo("🤖 " + str(item["body"].get("content", item["body"])))


def render_card(number: int, card: dict, replace_name: str | None = None) -> str:
    """A template card as terminal text with numbered buttons (or its grey label once decided)."""
    return render_text("sandbox/console/card", number=number, card=card,
                       replace_name=replace_name,
                       buttons=[b for b in card.get("button_list", []) if b.get("type", 0) != 1])
