"""Regenerate docs/commands.md from real runs: `python docs/make_commands.py [OUTPUT]`.

The scenario in docs/commands_scenario.py is replayed, section by section, through the real app
in sandbox mode (the built-in emulator, real encrypted callbacks, the outbox drained after every
message) on a fresh SQLite database with a fixed clock. Every bot message is written as the bot
sent it (cards as the sandbox console shows them); the trimming the document states (repeated
boilerplate kept once, ⋯ for dropped lines) is done here, so a rerun gives the same file.
tests/test_docs_commands.py checks that the committed document equals a fresh run."""

from __future__ import annotations

import logging
import re
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "commands.md"
GAP = "⋯"
NAMES = {"zhangsan": "张三", "liming": "李明", "lisi": "李四", "xuli": "徐丽", "gaofeng": "高峰",
         "wangwu": "王五", "zhengshi": "郑十"}
START = datetime(2026, 11, 25, 10, 0)


# -- scenario steps ------------------------------------------------------------------------

@dataclass
class Say:
    """`user` sends `text` (several lines: one message). `show`: "all", "none", N (the first N
    messages), or (head, tail): the first `head` and last `tail` lines around a ⋯."""

    user: str
    text: str
    show: object = "all"
    echo: bool = True  # False: drop the user's line too (with the reply, for show="none")


@dataclass
class Tap:
    """`user` taps button `button` of card `card` (None: the latest card), as `[/tap …]`."""

    user: str
    button: int
    card: int | None = None
    show: object = "all"


@dataclass
class Switch:
    """Show `user`'s phone: the messages that reached it since last looked at."""

    user: str
    show: object = "all"
    only: tuple = ()  # keep only messages containing one of these (others become ⋯)


@dataclass
class Cli:
    """A `flask --app bot …` command run in-process; its output as printed."""

    args: str


@dataclass
class Clock:
    """Set the app's clock (Asia/Shanghai)."""

    at: datetime


@dataclass
class Advance:
    """Move the clock forward and write `note` (e.g. （…31 分钟后…）)."""

    minutes: int
    note: str


@dataclass
class Hidden:
    """Steps run but not shown (one ⋯ in the transcript, unless `gap` is False); what reached
    the users who act in them is marked seen."""

    steps: list
    gap: bool = True


@dataclass
class Block:
    """One fenced transcript with the prose before it."""

    prose: str
    steps: list


@dataclass
class Section:
    title: str
    blocks: list = field(default_factory=list)


# -- running -------------------------------------------------------------------------------

class Recorder:
    """The app, the emulator and what each demo user has already seen."""

    def __init__(self, workdir: Path):
        from bot import create_app
        from bot.clock import SHANGHAI, FixedClock
        from bot.db import upgrade_database
        from bot.sandbox import seed_sandbox

        logging.disable(logging.CRITICAL)
        url = f"sqlite:///{workdir / 'filingbot.sqlite'}"
        upgrade_database(url)
        self.zone = SHANGHAI
        self.clock = FixedClock(START.replace(tzinfo=SHANGHAI))
        self.app = create_app({"ENV": {"DATABASE_URL": url, "SECRET_KEY": "docs-" + "0" * 32},
                               "CLOCK": self.clock, "OUTBOX_THREAD": False,
                               "INSTANCE_PATH": str(workdir / "instance")})
        self.emulator = self.app.extensions["filingbot.emulator"]
        self.emulator.clock = lambda: self.clock.now().timestamp()
        seed_sandbox(self.app)
        from bot.wecom.emulator import Phone, flask_target

        self.phone = Phone(self.emulator, flask_target(self.app))
        self.runner = self.app.test_cli_runner()
        self.seen: dict[str, int] = {}
        self.cards: dict[str, list[str]] = {}
        self.current: str | None = "zhangsan"

    def drain(self) -> None:
        self.app.extensions["filingbot.dispatcher"].drain()

    def new_messages(self, userid: str) -> list[str]:
        """What reached `userid` since last looked at, as the console prints it."""
        from bot.console import render_card

        shown = []
        for item in self.emulator.inbox(userid, after_id=self.seen.get(userid, 0)):
            self.seen[userid] = item["id"]
            if item["msgtype"] == "template_card":
                cards = self.cards.setdefault(userid, [])
                cards.append(item["task_id"])
                shown.append(render_card(len(cards), item["body"]))
            else:
                shown.append("🤖 " + str(item["body"].get("content", item["body"])))
        return shown

    def switch(self, userid: str, out: list) -> list[str]:
        """Lines announcing a change of phone, if any."""
        if self.current == userid:
            return []
        self.current = userid
        out.append(f"（切换到 {NAMES[userid]}）")
        return self.new_messages(userid)

    def run(self, step, out: list) -> None:
        """Run one step, appending transcript lines (GAP for dropped ones) to `out`."""
        from bot.wecom.emulator.cards import button_keys

        if isinstance(step, Hidden):
            current = self.current
            for inner in step.steps:
                self.run(inner, [])
            for userid in {inner.user for inner in step.steps if hasattr(inner, "user")}:
                self.new_messages(userid)  # what the hidden steps' actors saw stays hidden
            self.current = current
            if step.gap:
                out.append(GAP)
            return
        if isinstance(step, Clock):
            self.clock.at = step.at.replace(tzinfo=self.zone)
            return
        if isinstance(step, Advance):
            self.clock.advance(minutes=step.minutes)
            out.append(step.note)
            return
        if isinstance(step, Cli):
            result = self.runner.invoke(args=step.args.split())
            self.current = None  # the terminal, not a phone
            out.append(f"$ flask --app bot {step.args}")
            out.extend(result.output.rstrip("\n").splitlines())
            return
        if isinstance(step, Switch):
            backlog = self.switch(step.user, out) if self.current != step.user else \
                self.new_messages(step.user)
            if step.only:
                backlog = [m if any(w in m for w in step.only) else GAP for m in backlog]
            out.extend(trim(backlog, step.show))
            return
        backlog = self.switch(step.user, out)
        if backlog:
            out.extend(backlog)
        name = NAMES[step.user]
        if isinstance(step, Say):
            self.phone.say(step.user, step.text)
            head, *rest = step.text.split("\n")
            line = [f"{name}> {head}", *(f"    {r}" for r in rest)]
        else:
            cards = self.cards.get(step.user, [])
            number = step.card or len(cards)
            task_id = cards[number - 1]
            view = self.emulator.card_view(task_id, step.user)
            self.phone.tap(step.user, task_id, button_keys(view["card"])[step.button - 1])
            label = f"[/tap {step.button}]" if step.card is None else \
                f"[/tap {step.card} {step.button}]"
            line = [f"{name}> {label}"]
        self.drain()
        replies = self.new_messages(step.user)
        if step.show == "none" and not getattr(step, "echo", True):
            out.append(GAP)
            return
        out.extend(line)
        out.extend(trim(replies, step.show))


def trim(messages: list[str], show) -> list[str]:
    """Messages cut as `show` says (see Say)."""
    if show == "all":
        return list(messages)
    if show == "none":
        return [GAP] if messages else []
    if isinstance(show, int):  # the first `show` messages
        return list(messages[:show]) + ([GAP] if len(messages) > show else [])
    head, tail = show
    lines = "\n".join(messages).split("\n")
    if len(lines) <= head + tail:
        return lines
    return lines[:head] + [GAP] + (lines[-tail:] if tail else [])


# -- boilerplate kept once -----------------------------------------------------------------

ONCE = [
    re.compile(r"^（“返回”上一题，“取消”放弃）$"),
    re.compile(r"^回复“确认”提交；"),
    re.compile(r"^审核结果会通过本应用通知您"),
]


def platform_item() -> re.Pattern:
    """A line of the numbered platform list the 平台 question shows."""
    from workflow.forms.validators import PLATFORMS

    names = "|".join(re.escape(name) for _, name in PLATFORMS)
    return re.compile(rf"^\d{{1,2}}\. ({names})$")


def keep_once(lines: list[str], seen: set) -> list[str]:
    """Drop repeated boilerplate lines (the first of each kind stays) and the platform list
    after its first appearance (one ⋯ instead)."""
    kept: list[str] = []
    platform = platform_item()
    for line in lines:
        body = line[2:] if line.startswith("🤖 ") else line
        rule = next((r.pattern for r in ONCE if r.search(body)), None)
        if rule:
            if rule in seen:
                if kept and kept[-1] == "":
                    kept.pop()
                continue
            seen.add(rule)
        if platform.search(body) and not line.startswith("🤖"):
            if "platforms-done" in seen:
                if kept[-1:] != [GAP]:
                    kept.append(GAP)
                continue
            seen.add("platforms-open")
        elif "platforms-open" in seen:
            seen.discard("platforms-open")
            seen.add("platforms-done")
        kept.append(line)
    return squeeze(kept)


def squeeze(lines: list[str]) -> list[str]:
    """No two ⋯ in a row, no ⋯ right after a blank line that ends a message."""
    out = []
    for line in lines:
        if line == GAP and out and out[-1] == GAP:
            continue
        out.append(line)
    while out and out[0] == GAP and len(out) > 1 and out[1] == GAP:
        out.pop(0)
    return out


def render(sections: list[Section], recorder: Recorder, header: str) -> str:
    """The whole document."""
    parts = [header.rstrip("\n")]
    seen: set = set()
    for section in sections:
        parts.append(f"## {section.title}")
        for block in section.blocks:
            lines: list[str] = []
            for step in block.steps:
                try:
                    recorder.run(step, lines)
                except Exception:
                    sys.stderr.write("\n".join(lines) + "\n")  # the transcript so far
                    raise
            flat = "\n".join(lines).split("\n")
            if block.prose:
                parts.append(block.prose.strip("\n"))
            parts.append("```\n" + "\n".join(keep_once(flat, seen)) + "\n```")
    return "\n\n".join(parts) + "\n"


def generate(output: Path) -> None:
    """Run the scenario on a fresh database and write the document to `output`."""
    from commands_scenario import HEADER, SECTIONS

    with tempfile.TemporaryDirectory() as workdir:
        recorder = Recorder(Path(workdir))
        try:
            text = render(SECTIONS, recorder, HEADER)
        finally:
            recorder.app.extensions["filingbot.engine"].dispose()
    output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    # run as the module `make_commands`, the one the scenario's steps come from
    sys.path.insert(0, str(ROOT / "docs"))
    import make_commands

    make_commands.generate(Path(sys.argv[1]) if len(sys.argv) > 1 else DOC)
