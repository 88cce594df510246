"""Art. 13: credentials never leave the department. A message carrying a password — a one-shot
form, an answer, a reason, anything — is answered with the warning and taken nowhere: not into a
form, a decision's reason, the audit log, nor the stored reply."""

from workflow.forms import validators as v
from workflow.kinds import FORMS


def register(router) -> None:
    router.intercept(refuse_passwords)


def refuse_passwords(ctx) -> bool:
    """Claim a text that holds a password: warn, change nothing."""
    if not v.looks_like_password(ctx.text):
        return False
    ctx.reply("forms/password_refused", form_open=ctx.user.has_conversation,
              question_open=ctx.user.has_question, forms=FORMS)
    return True
