"""A form's dialogue state (typed), the words a form reserves, and `hint`: shared by the engine
and the Step modules. Conversation.answers holds the field values only; everything about the
dialogue itself is a `Dialogue`, stored in Conversation.dialogue."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from bot.render import render_text
from models import Conversation

CANCEL = ("取消", "cancel", "退出")
BACK = ("返回", "back", "上一步")
SKIP = ("跳过", "skip")
CONFIRM = ("确认", "提交", "confirm", "ok")
EDIT = ("修改", "edit")
FORM_WORDS = CANCEL + BACK + SKIP + CONFIRM + EDIT  # the engine's own words while a form is open
YES = ("是", "好", "y", "yes", "确定", "放弃")
NO = ("否", "不", "n", "no", "继续")
DEPARTMENT = "department"  # what a choice of department is for (Choice.target)


@dataclass(frozen=True)
class Dialogue:
    """Where a form's dialogue stands, besides the answers and the current step."""

    department_id: int | None = None  # the department the form is filed for
    raw: dict = field(default_factory=dict)  # one-shot values not read yet, by field name
    oneshot: bool = False  # filled from a one-shot paste: only missing fields are asked
    skipped: list = field(default_factory=list)  # optional fields the user skipped
    history: list = field(default_factory=list)  # fields answered, in order (返回 goes back)
    failed: list = field(default_factory=list)  # one-shot fields whose value was refused
    choice: dict | None = None  # {"for": field name or DEPARTMENT, "options": [[shown, value]]}
    editing: bool = False  # 修改 from the summary: back to the summary after the answer
    pending: str = ""  # a new form's command that came mid-form (abandon? 是/否)
    resume: str = ""  # the step to go back to when the user keeps the current form

    @classmethod
    def of(cls, conv: Conversation) -> Dialogue:
        return cls(**(conv.dialogue or {}))


def update(conv: Conversation, step: str | None = None, **changes) -> Dialogue:
    """Change the dialogue state (and the step); returns the new state."""
    dialogue = replace(Dialogue.of(conv), **changes)
    conv.dialogue = asdict(dialogue)  # a new dict: JSON columns see only reassignment
    if step is not None:
        conv.step = step
    return dialogue


def set_answer(conv: Conversation, name: str, value) -> None:
    """Store a field's value."""
    conv.answers = {**conv.answers, name: value}


def hint(code: str, **params) -> str:
    """A form's guidance text (templates/messages/forms/hint.txt.j2), e.g. "pick"."""
    return render_text("forms/hint", code=code, **params)
