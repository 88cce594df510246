"""What the user sees of a Step: the question, a numbered choice, the summary."""

from __future__ import annotations

from handlers.forms.state import hint
from workflow import duplicates
from workflow.forms import accounts
from workflow.forms import answers as a
from workflow.forms import validators as v


class Prompts:
    """Mixed into Step: rendering the current question or the summary."""

    # --- what the user sees ----------------------------------------------------------------
    def ask(self, name: str, error: str | None = None) -> None:
        field = self.form.field(name)
        fc = self.fc()
        choices = []
        if field.kind == "platform":
            choices = [label for _, label in v.PLATFORMS]
        elif field.kind == "account":
            choices = [accounts.describe_account(acc) for acc in accounts.department_accounts(fc)]
            if not choices:  # nothing to change, review or close: say so and end the form
                self.ctx.session.delete(self.conv)
                self.ctx.reply("raw", text=v.Invalid("no_accounts").message)
                return
        default = a.default_value(field, fc) if field.kind in ("person", "year") else None
        position = [f.name for f in self.form.fields].index(name) + 1
        self.ctx.reply("forms/ask", form=self.form, field=field, position=position,
                       total=len(self.form.fields), choices=choices, error=error,
                       default=a.show(field, default) if default is not None else None,
                       notes=self.rendered_notes())

    def ask_choice(self, prompt: str, options: list) -> None:
        self.ctx.reply("forms/choose", prompt=prompt, options=[o[0] for o in options],
                       notes=self.rendered_notes())

    def summary(self, error: str | None = None) -> None:
        self.conv.step = "confirm"
        rows = [(f.label, a.show(f, self.answers.get(f.name))) for f in self.form.fields
                if f.name in self.answers or not f.optional]
        self.ctx.reply("forms/summary", form=self.form, rows=rows, error=error,
                       notes=self.rendered_notes(), questions=self.name_questions())

    def name_questions(self) -> list[tuple[str, dict]]:
        """Before a 登记/申请 is submitted: the platform already has an account of this name, or
        the name does not carry the school's (art. 2)."""
        kind, answers = self.form.kind, self.answers
        notes = []
        if same := duplicates.namesakes(self.ctx.session, kind, answers):
            notes.append(("namesake", {"accounts": same, "platform": v.PLATFORM_NAMES.get(
                answers["platform"], answers["platform"]), "field": self.form.field("name").label}))
        if duplicates.lacks_school_name(self.ctx.settings, kind, answers):
            notes.append(("no_school_name", {"name": answers["name"],
                                              "schools": self.ctx.settings.school_names,
                                              "field": self.form.field("name").label}))
        return notes

    def rendered_notes(self) -> list[tuple[str, dict]]:
        return self.notes

    def repeat(self, error: str | None = None) -> None:
        """Ask the current question (or show the summary) again."""
        step = self.conv.step
        if step == "confirm":
            return self.summary(error=error)
        if step in ("department", "choose"):
            choice = self.dialogue.choice or {}
            return self.ask_choice(hint("pick"), choice.get("options", []))
        self.ask(step, error=error)
