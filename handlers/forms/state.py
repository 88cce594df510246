"""The words a form reserves and `remember`: shared by the engine and the Step modules."""

from __future__ import annotations

from models import Conversation

CANCEL = ("取消", "cancel", "退出")
BACK = ("返回", "back", "上一步")
SKIP = ("跳过", "skip")
CONFIRM = ("确认", "提交", "confirm", "ok")
EDIT = ("修改", "edit")
FORM_WORDS = CANCEL + BACK + SKIP + CONFIRM + EDIT  # the engine's own words while a form is open
YES = ("是", "好", "y", "yes", "确定", "放弃")
NO = ("否", "不", "n", "no", "继续")


def remember(conv: Conversation, step: str | None = None, **meta) -> None:
    """Store the step and meta keys; JSON columns need a new dict to be seen as changed."""
    answers = dict(conv.answers)
    answers.update(meta)
    conv.answers = answers
    if step is not None:
        conv.step = step

