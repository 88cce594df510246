"""Every handler module, registered on the router: one line per module."""

from handlers import help


def register_handlers(router) -> None:
    """Attach all handlers to `router`."""
    help.register(router)
