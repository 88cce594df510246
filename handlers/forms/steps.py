"""Step: one message's worth of work on a conversation: dispatch, answers, moving on.

Its edits (返回, 修改, 确认, abandoning) are in edits.py; what the user sees is in prompts.py."""

from __future__ import annotations

from bot.router import first_word
from handlers.forms.edits import Edits
from handlers.forms.prompts import Prompts
from handlers.forms.state import BACK, EDIT, SKIP, remember
from models import Conversation
from workflow.forms import answers as a
from workflow.forms import validators as v
from workflow.kinds import FORMS


class Step(Edits, Prompts):
    """One message's worth of work on a conversation."""

    def __init__(self, ctx, conv: Conversation):
        self.ctx, self.conv = ctx, conv
        self.form = FORMS[conv.kind]
        self.notes: list[tuple[str, dict]] = []  # (template code, params) shown before the question
        conv.updated_at = ctx.clock.now()

    @property
    def answers(self) -> dict:
        return self.conv.answers

    def fc(self) -> a.FormContext:
        values = {k: val for k, val in self.answers.items() if not k.startswith("_")}
        return a.FormContext(session=self.ctx.session, userid=self.ctx.userid,
                             department_id=self.answers.get("_dept"),
                             today=self.ctx.clock.local_now().date(), answers=values)

    # --- dispatch on the current step ----------------------------------------------------
    def handle(self, text: str) -> None:
        step = self.conv.step
        if text.lower() in BACK:
            return self.back()
        if first_word(text) in EDIT and step not in ("department", "choose"):
            return self.edit(text)
        if step in ("department", "choose"):
            return self.on_choice(text)
        if step == "confirm":
            return self.on_confirm(text)
        return self.on_answer(self.form.field(step), text)

    def on_answer(self, field, text: str) -> None:
        if text.lower() in SKIP and not field.optional:
            return self.ask(field.name, error=f"“{field.label}”是必填项，不能跳过。")
        if text.lower() in SKIP + ("无",) and field.optional:
            remember(self.conv, _skipped=[*self.answers.get("_skipped", []), field.name],
                     _history=[*self.answers.get("_history", []), field.name])
            return self.advance()
        try:
            value = a.read(field, text, self.form, self.fc())
        except v.Invalid as exc:
            return self.ask(field.name, error=exc.message)
        except a.NeedsChoice as choice:
            remember(self.conv, step="choose",
                     _choice={"for": field.name, "options": choice.options})
            return self.ask_choice(choice.prompt, choice.options)
        self.store(field.name, value)
        self.advance()

    def on_choice(self, text: str) -> None:
        choice = self.answers.get("_choice") or {}
        options = choice.get("options", [])
        if not (text.isdigit() and 1 <= int(text) <= len(options)):
            return self.ask_choice("请回复列表中的序号（或发送“取消”）：", options)
        value = options[int(text) - 1][1]
        target = choice["for"]
        remember(self.conv, _choice=None)
        if target == "_dept":
            remember(self.conv, _dept=value)
        else:
            self.store(target, value)
        self.advance()

    # --- moving on -------------------------------------------------------------------------
    def store(self, name: str, value) -> None:
        history = [n for n in self.answers.get("_history", []) if n != name] + [name]
        remember(self.conv, **{name: value}, _history=history)

    def advance(self) -> None:
        """Read pending one-shot values, then ask the next question or show the summary."""
        if self.answers.get("_edit"):
            remember(self.conv, _edit=False)
            return self.summary()
        raw = dict(self.answers.get("_raw", {}))
        for field in self.form.fields:
            if field.name not in raw:
                continue
            text = raw.pop(field.name)
            remember(self.conv, _raw=raw)
            try:
                self.store(field.name, a.read(field, text, self.form, self.fc()))
            except v.Invalid as exc:
                self.notes.append(("field_error", {"label": field.label, "message": exc.message}))
                remember(self.conv, _failed=[*self.answers.get("_failed", []), field.name])
            except a.NeedsChoice as choice:
                remember(self.conv, step="choose",
                         _choice={"for": field.name, "options": choice.options})
                return self.ask_choice(choice.prompt, choice.options)
        if self.answers.get("_oneshot"):
            self.fill_defaults()
            pending = self.form.missing(self.answers)
        else:
            pending = self.form.unasked(self.answers, self.answers.get("_skipped", []))
        if pending:
            self.conv.step = pending[0].name
            return self.ask(pending[0].name)
        self.summary()

    def fill_defaults(self) -> None:
        """One-shot forms: 负责人, 管理员 and 年度 take their defaults, checked like answers."""
        failed = self.answers.get("_failed", [])
        for field in self.form.fields:
            if field.name in self.answers or field.name not in ("leader", "admins", "year") \
                    or field.name in failed:  # the user gave a bad value: ask, don't guess
                continue
            value = a.default_value(field, self.fc())
            if value is None:
                continue
            if field.kind == "year":
                try:  # the default year still has to pass the duplicate and start-year checks
                    value = a.read(field, str(value), self.form, self.fc())
                except v.Invalid as exc:
                    self.notes.append(("field_error",
                                       {"label": field.label, "message": exc.message}))
                    continue
            self.store(field.name, value)
