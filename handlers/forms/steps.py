"""Step: one message's worth of work on a conversation: dispatch, answers, moving on.

Its edits (返回, 修改, 确认, abandoning) are in edits.py; what the user sees is in prompts.py."""

from __future__ import annotations

from bot.router import first_word
from handlers.forms.edits import Edits
from handlers.forms.prompts import Prompts
from handlers.forms.state import (
    BACK,
    DEPARTMENT,
    EDIT,
    SKIP,
    Dialogue,
    hint,
    set_answer,
    update,
)
from models import Conversation
from workflow.changes import check_changed
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

    @property
    def dialogue(self) -> Dialogue:
        return Dialogue.of(self.conv)

    def fc(self) -> a.FormContext:
        values = dict(self.answers)
        return a.FormContext(session=self.ctx.session, userid=self.ctx.userid,
                             department_id=self.dialogue.department_id,
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
            return self.ask(field.name, error=hint("required", label=field.label))
        if text.lower() in SKIP + ("无",) and field.optional:
            update(self.conv, skipped=[*self.dialogue.skipped, field.name],
                   history=[*self.dialogue.history, field.name])
            return self.advance()
        try:
            value = self.read(field, text)
        except v.Invalid as exc:
            return self.ask(field.name, error=exc.message)
        except a.NeedsChoice as choice:
            update(self.conv, step="choose", choice={"for": field.name, "options": choice.options})
            return self.ask_choice(choice.prompt, choice.options)
        self.store(field.name, value)
        self.advance()

    def on_choice(self, text: str) -> None:
        choice = self.dialogue.choice or {}
        options = choice.get("options", [])
        if not (text.isdigit() and 1 <= int(text) <= len(options)):
            return self.ask_choice(hint("pick_listed"), options)
        value = options[int(text) - 1][1]
        target = choice["for"]
        update(self.conv, choice=None)
        if target == DEPARTMENT:
            update(self.conv, department_id=value)
        else:
            field = self.form.field(target)
            try:
                check_changed(self.ctx.session, self.form, self.answers, field, value)
            except v.Invalid as exc:
                return self.ask(target, error=exc.message)
            self.store(target, value)
        self.advance()

    def read(self, field, text: str):
        """The answer's value (a.read), and for a 变更 one that differs from the account's."""
        value = a.read(field, text, self.form, self.fc())
        check_changed(self.ctx.session, self.form, self.answers, field, value)
        return value

    # --- moving on -------------------------------------------------------------------------
    def store(self, name: str, value) -> None:
        set_answer(self.conv, name, value)
        update(self.conv, history=[n for n in self.dialogue.history if n != name] + [name])

    def advance(self) -> None:
        """Read pending one-shot values, then ask the next question or show the summary."""
        if self.dialogue.editing:
            update(self.conv, editing=False)
            return self.summary()
        raw = dict(self.dialogue.raw)
        for field in self.form.fields:
            if field.name not in raw:
                continue
            text = raw.pop(field.name)
            update(self.conv, raw=raw)
            try:
                self.store(field.name, self.read(field, text))
            except v.Invalid as exc:
                self.notes.append(("field_error", {"label": field.label, "message": exc.message}))
                update(self.conv, failed=[*self.dialogue.failed, field.name])
            except a.NeedsChoice as choice:
                update(self.conv, step="choose",
                       choice={"for": field.name, "options": choice.options})
                return self.ask_choice(choice.prompt, choice.options)
        if self.dialogue.oneshot:
            self.fill_defaults()
            pending = self.form.missing(self.answers)
        else:
            pending = self.form.unasked(self.answers, self.dialogue.skipped)
        if pending:
            self.conv.step = pending[0].name
            return self.ask(pending[0].name)
        self.summary()

    def fill_defaults(self) -> None:
        """One-shot forms: 负责人, 管理员 and 年度 take their defaults, checked like answers."""
        failed = self.dialogue.failed
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
