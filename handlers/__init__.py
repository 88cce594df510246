"""Every handler module, registered on the router: one line per module."""

from handlers import help, query
from handlers.forms import engine


def register_handlers(router) -> None:
    """Attach all handlers to `router`; a form in progress sees text first."""
    engine.register(router)
    help.register(router)
    query.register(router)
