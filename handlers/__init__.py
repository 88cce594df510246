"""Every handler module, registered on the router: one line per module."""

from handlers import credentials, help, query, zero_report
from handlers.approval import commands as approval_commands
from handlers.approval import prompts as approval_prompts
from handlers.forms import engine


def register_handlers(router) -> None:
    """Attach all handlers to `router`. Interceptors run in this order: a password (art. 13),
    an open question to a decider (reason, new account ID), then a form in progress."""
    credentials.register(router)
    approval_prompts.register(router)
    engine.register(router)
    help.register(router)
    query.register(router)
    approval_commands.register(router)
    zero_report.register(router)
