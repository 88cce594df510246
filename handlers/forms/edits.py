"""Step edits: 返回, 修改 <字段>, 确认, a one-shot merged in."""

from __future__ import annotations

from bot.router import first_word
from handlers.forms.oneshot import parse_lines
from handlers.forms.state import CONFIRM, hint, update
from workflow.forms.validators import Invalid
from workflow.kinds import KINDS
from workflow.submit import submit, submit_problem


class Edits:
    """Mixed into Step: going back, editing, confirming and merging."""

    def on_confirm(self, text: str) -> None:
        if text.lower() in CONFIRM:
            kind = KINDS[self.form.kind]
            problem = submit_problem(kind, self.answers)
            if problem:
                return self.summary(error=problem.message)
            try:
                filing = submit(self.ctx.uow, kind, self.dialogue.department_id,
                                dict(self.answers))
            except Invalid as taken:  # registered or filed by someone else since it was read
                return self.summary(error=taken.message)
            self.ctx.session.delete(self.conv)
            self.ctx.reply("forms/submitted", form=self.form, filing=filing)
            return
        self.summary(error=hint("confirm_or_edit"))

    def edit(self, text: str) -> None:
        """修改 <字段>: ask that field again, then come back to the summary (or carry on)."""
        label = text[len(first_word(text)):].strip().lstrip(":：")
        field = self.form.by_label(label)
        if field is None:
            message = hint("edit_which", labels=[f.label for f in self.form.fields])
            return self.repeat(error=message)
        update(self.conv, step=field.name, editing=self.conv.step == "confirm")
        self.ask(field.name)

    def merge(self, text: str) -> None:
        """The form's command again mid-form: take any `字段：值` lines,
        else repeat the question."""
        raw, unknown, stray = parse_lines(self.form, text.splitlines()[1:])
        if not raw:
            return self.repeat(error=hint("filling", title=self.form.title))
        if unknown or stray:
            self.notes.append(("unknown_labels",
                               {"labels": unknown, "stray": stray[:3], "form": self.form}))
        update(self.conv, raw={**self.dialogue.raw, **raw}, oneshot=True,
               failed=[n for n in self.dialogue.failed if n not in raw], editing=False,
               choice=None)
        self.advance()

    def back(self) -> None:
        """返回: the answered question just before this one in the form's order (after a
        one-shot paste the answers were not given in that order)."""
        history = list(self.dialogue.history)
        order = [f.name for f in self.form.fields]
        here = order.index(self.conv.step) if self.conv.step in order else len(order)
        earlier = [n for n in history if n in order and order.index(n) < here]
        if not earlier:
            return self.repeat(error=hint("first_question"))
        previous = max(earlier, key=order.index)
        history.remove(previous)
        self.conv.answers = {k: val for k, val in self.answers.items() if k != previous}
        update(self.conv, step=previous, history=history,
               skipped=[n for n in self.dialogue.skipped if n != previous],
               raw={k: val for k, val in self.dialogue.raw.items() if k != previous},
               editing=False)
        self.ask(previous)
