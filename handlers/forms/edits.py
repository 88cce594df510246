"""Step edits: 返回, 修改 <字段>, 确认, a one-shot merged in, abandoning for another form."""

from __future__ import annotations

from bot.router import first_word
from handlers.forms.catalog import form_for_command
from handlers.forms.oneshot import parse_lines
from handlers.forms.state import CONFIRM, NO, YES, remember
from handlers.forms.submit import submit, submit_problem


class Edits:
    """Mixed into Step: going back, editing, confirming, merging and abandoning."""

    def on_abandon(self, text: str) -> None:
        from handlers.forms.engine import start  # engine imports Step: a top import would cycle

        pending, resume = self.answers.get("_pending", ""), self.answers.get("_resume", "")
        if text.lower() in YES:
            self.ctx.session.delete(self.conv)
            self.ctx.session.flush()
            start(self.ctx, form_for_command(first_word(pending)), pending)
        elif text.lower() in NO:
            remember(self.conv, step=resume)
            self.repeat()
        else:
            self.ctx.reply("forms/abandon", current=self.form.title,
                           new=form_for_command(first_word(pending)).title)

    def on_confirm(self, text: str) -> None:
        if text.lower() in CONFIRM:
            problem = submit_problem(self.form, self.answers)
            if problem:
                return self.summary(error=problem)
            filing = submit(self.ctx, self.form, self.conv)
            self.ctx.session.delete(self.conv)
            self.ctx.reply("forms/submitted", form=self.form, filing=filing)
            return
        self.summary(error="请回复“确认”提交，或“修改 字段名”“取消”。")

    def edit(self, text: str) -> None:
        """修改 <字段>: ask that field again, then come back to the summary (or carry on)."""
        label = text[len(first_word(text)):].strip().lstrip(":：")
        field = self.form.by_label(label)
        if field is None:
            message = "请发送“修改 字段名”，可修改：" + "、".join(f.label for f in self.form.fields)
            return self.repeat(error=message)
        remember(self.conv, step=field.name, _edit=self.conv.step == "confirm")
        self.ask(field.name)

    def merge(self, text: str) -> None:
        """The form's command again mid-form: take any `字段：值` lines,
        else repeat the question."""
        raw, unknown, stray = parse_lines(self.form, text.splitlines()[1:])
        if not raw:
            return self.repeat(error=f"您正在填写“{self.form.title}”。")
        if unknown or stray:
            self.notes.append(("unknown_labels",
                               {"labels": unknown, "stray": stray[:3], "form": self.form}))
        remember(self.conv, _raw={**self.answers.get("_raw", {}), **raw}, _oneshot=True,
                 _failed=[n for n in self.answers.get("_failed", []) if n not in raw],
                 _edit=False, _choice=None)
        self.advance()

    def back(self) -> None:
        """返回: the answered question just before this one in the form's order (after a
        one-shot paste the answers were not given in that order)."""
        history = list(self.answers.get("_history", []))
        order = [f.name for f in self.form.fields]
        here = order.index(self.conv.step) if self.conv.step in order else len(order)
        earlier = [n for n in history if n in order and order.index(n) < here]
        if not earlier:
            return self.repeat(error="已经是第一个问题了。")
        previous = max(earlier, key=order.index)
        history.remove(previous)
        answers = dict(self.answers)
        answers["_history"] = history
        answers["_skipped"] = [n for n in answers.get("_skipped", []) if n != previous]
        answers.pop(previous, None)
        answers["_raw"] = {k: val for k, val in answers.get("_raw", {}).items() if k != previous}
        answers["_edit"] = False
        self.conv.answers = answers
        self.conv.step = previous
        self.ask(previous)
