"""The conversation engine: one FormSpec at a time per user, state in the database (SPEC §4).

States of a Conversation row (`step`):
    department  – the user belongs to several departments: which one files?
    <field>     – asking that field
    choose      – an answer matched several people/accounts: pick one by number
    confirm     – summary shown: 确认 / 修改 <字段> / 取消
    abandon     – a new form command arrived mid-form: abandon the current one? 是/否
A form idle for 30 minutes expires; the next message says so.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.directory import departments_of
from bot.render import render_text
from bot.router import first_word
from handlers.forms import answers as a
from handlers.forms import validators as v
from handlers.forms.catalog import FORMS, form_for_command
from handlers.forms.oneshot import blank_template, parse_lines
from handlers.forms.spec import FormSpec
from handlers.forms.submit import submit
from models import Conversation

IDLE_LIMIT = timedelta(minutes=30)
CANCEL = ("取消", "cancel", "退出")
BACK = ("返回", "back", "上一步")
SKIP = ("跳过", "skip")
CONFIRM = ("确认", "提交", "confirm", "ok")
EDIT = ("修改", "edit")
FORM_WORDS = CANCEL + BACK + SKIP + CONFIRM + EDIT  # the engine's own words while a form is open
YES = ("是", "好", "y", "yes", "确定", "放弃")
NO = ("否", "不", "n", "no", "继续")


def register(router) -> None:
    router.intercept(lambda ctx: intercept(ctx, router))
    router.card_action("annual")(start_annual_from_card)


def start_annual_from_card(ctx) -> None:
    """A tap on a reminder card's account button: the 年检 form for that account, in the
    account's department (no department question), saying which account and year it is."""
    from models import Account, Membership

    account_id = (ctx.message.key or "").split(":", 1)[-1]
    account = ctx.session.get(Account, int(account_id)) if account_id.isdigit() else None
    member = account is not None and ctx.session.get(Membership,
                                                     (ctx.userid, account.department_id))
    if not member:
        ctx.reply("approval/unknown_card")
        return
    conv = load(ctx)
    if conv is not None:
        ctx.reply("forms/abandon_first", current=FORMS[conv.kind].title)
        return
    ctx.note("forms/from_card", account=account, year=ctx.clock.local_now().year - 1)
    start(ctx, FORMS["annual"], f"年检\n账号：{account.filing_no or account.name}",
          department_id=account.department_id)


def intercept(ctx, router) -> bool:
    """Handle `ctx.text` if it starts a form or belongs to the user's form in progress."""
    conv = load(ctx)
    if conv is not None and ctx.clock.now() - conv.updated_at > IDLE_LIMIT:
        ctx.note("forms/expired", title=FORMS[conv.kind].title)
        ctx.session.delete(conv)
        ctx.session.flush()
        conv = None
    text = ctx.text
    form = form_for_command(first_word(text))
    if conv is None:
        if form is None:
            return False
        start(ctx, form, text)
        return True
    word = first_word(text).lower()
    if word in router.commands and word not in FORM_WORDS and form is None:
        # Another command (帮助, 查询, 待办, 同意 …): its own handler answers, the form waits.
        ctx.postscripts.append(render_text("forms/still_open", title=FORMS[conv.kind].title))
        return False
    if form is not None and text.splitlines()[0].strip().endswith(("模板", "template")):
        start(ctx, form, text)  # a blank template does not disturb the form in progress
        ctx.reply_text += "\n\n" + render_text("forms/still_open", title=FORMS[conv.kind].title)
        return True
    if text.lower() in CANCEL:
        ctx.session.delete(conv)
        ctx.reply("forms/cancelled", title=FORMS[conv.kind].title)
        return True
    if form is not None and form.kind == conv.kind:
        Step(ctx, conv).merge(text)  # the same form again, e.g. a corrected one-shot
        return True
    if form is not None:
        remember(conv, step="abandon", _pending=text,
                 _resume=conv.step if conv.step != "abandon" else conv.answers.get("_resume"))
        ctx.reply("forms/abandon", current=FORMS[conv.kind].title, new=form.title)
        return True
    Step(ctx, conv).handle(text)
    return True


def load(ctx) -> Conversation | None:
    """The user's conversation row, locked for this transaction.

    Most messages come from users with no form open: the callback already knows (one query
    for the sender and their conversation), which spares them this load."""
    if not ctx.user.has_conversation:
        return None
    return ctx.session.scalar(
        select(Conversation).where(Conversation.userid == ctx.userid).with_for_update())


def remember(conv: Conversation, step: str | None = None, **meta) -> None:
    """Store the step and meta keys; JSON columns need a new dict to be seen as changed."""
    answers = dict(conv.answers)
    answers.update(meta)
    conv.answers = answers
    if step is not None:
        conv.step = step


def start(ctx, form: FormSpec, text: str, department_id: int | None = None) -> None:
    """Begin `form`: the blank template, a one-shot form, or the first question."""
    lines = text.splitlines()
    rest = lines[0].strip()[len(first_word(lines[0])):].strip()
    if rest in ("模板", "template"):
        ctx.reply("forms/template", form=form, blank=blank_template(form))
        return
    conv = Conversation(userid=ctx.userid, kind=form.kind, step="", answers={},
                        updated_at=ctx.clock.now())
    ctx.session.add(conv)
    step = Step(ctx, conv)
    raw, unknown, stray = parse_lines(form, lines[1:] + ([rest] if rest else []))
    oneshot = bool(raw or unknown)
    remember(conv, _raw=raw, _oneshot=oneshot, _skipped=[], _history=[])
    if unknown or stray:
        step.notes.append(("unknown_labels", {"labels": unknown, "stray": stray[:3], "form": form}))
    if department_id is not None:
        remember(conv, _dept=department_id)
    elif form.per_department:
        departments = departments_of(ctx.session, ctx.userid)
        if not departments:
            ctx.session.delete(conv)
            ctx.reply("forms/no_department")
            return
        if len(departments) > 1:
            options = [(d.name, d.id) for d in departments]
            remember(conv, step="department", _choice={"for": "_dept", "options": options})
            step.ask_choice("您在多个部门，请问为哪个部门填报？回复序号：", options)
            return
        remember(conv, _dept=departments[0].id)
    step.advance()


class Step:
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
        if step == "abandon":
            return self.on_abandon(text)
        if text.lower() in BACK:
            return self.back()
        if first_word(text) in EDIT and step not in ("department", "choose"):
            return self.edit(text)
        if step in ("department", "choose"):
            return self.on_choice(text)
        if step == "confirm":
            return self.on_confirm(text)
        return self.on_answer(self.form.field(step), text)

    def on_abandon(self, text: str) -> None:
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
        history = list(self.answers.get("_history", []))
        if not history:
            return self.repeat(error="已经是第一个问题了。")
        previous = history.pop()
        answers = dict(self.answers)
        answers["_history"] = history
        answers["_skipped"] = [n for n in answers.get("_skipped", []) if n != previous]
        answers.pop(previous, None)
        answers["_raw"] = {k: val for k, val in answers.get("_raw", {}).items() if k != previous}
        answers["_edit"] = False
        self.conv.answers = answers
        self.conv.step = previous
        self.ask(previous)

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

    def repeat(self, error: str | None = None) -> None:
        """Ask the current question (or show the summary) again."""
        step = self.conv.step
        if step == "confirm":
            return self.summary(error=error)
        if step in ("department", "choose"):
            choice = self.answers.get("_choice") or {}
            return self.ask_choice("请回复序号选择：", choice.get("options", []))
        self.ask(step, error=error)

    # --- what the user sees ----------------------------------------------------------------
    def ask(self, name: str, error: str | None = None) -> None:
        field = self.form.field(name)
        fc = self.fc()
        choices = []
        if field.kind == "platform":
            choices = [label for _, label in v.PLATFORMS]
        elif field.kind == "account":
            choices = [a.describe_account(acc) for acc in a.department_accounts(fc)]
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
                       notes=self.rendered_notes())

    def rendered_notes(self) -> list[tuple[str, dict]]:
        return self.notes


def submit_problem(form: FormSpec, answers: dict) -> str | None:
    """A cross-field rule the summary must satisfy before submitting (None when fine)."""
    if form.kind == "change" and "new_leader" not in answers and "new_admins" not in answers:
        return "新负责人和新管理员至少需要填写一项，请发送“修改 新负责人”或“修改 新管理员”。"
    return None
