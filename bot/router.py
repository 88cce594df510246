"""Matches an inbound message or event to the handler that runs it (Bolt-style registration).

Handlers register themselves with `register(router)`; `handlers.register_handlers` lists them.
Order of matching: interceptors (e.g. a form in progress), text commands by their first word,
card button keys by prefix, other events by name, then the fallback.
"""

from __future__ import annotations

from typing import Callable

Handler = Callable[["Ctx"], None]  # noqa: F821 (bot.context.Ctx)


class Router:
    def __init__(self):
        self.commands: dict[str, Handler] = {}
        self.card_actions: dict[str, Handler] = {}
        self.events: dict[str, Handler] = {}
        self.interceptors: list[Callable[["Ctx"], bool]] = []  # noqa: F821
        self.fallback_handler: Handler | None = None

    def command(self, *names: str):
        """Register a handler for text whose first word is one of `names` (case-insensitive)."""
        def decorator(handler: Handler) -> Handler:
            for name in names:
                self.commands[name.lower()] = handler
            return handler
        return decorator

    def card_action(self, prefix: str):
        """Register a handler for card taps whose button key starts with `prefix:`."""
        def decorator(handler: Handler) -> Handler:
            self.card_actions[prefix] = handler
            return handler
        return decorator

    def event(self, name: str):
        """Register a handler for an event type (e.g. enter_agent)."""
        def decorator(handler: Handler) -> Handler:
            self.events[name] = handler
            return handler
        return decorator

    def intercept(self, interceptor):
        """Register a function that may claim a text message before commands (returns True)."""
        self.interceptors.append(interceptor)
        return interceptor

    def fallback(self, handler: Handler) -> Handler:
        """Register the handler for anything nothing else matched."""
        self.fallback_handler = handler
        return handler

    def dispatch(self, ctx) -> None:
        """Run the one handler that matches `ctx.message`."""
        message = ctx.message
        if message.type == "text":
            for interceptor in self.interceptors:
                if interceptor(ctx):
                    return
            handler = self.commands.get(first_word(ctx.text).lower())
            if handler:
                return handler(ctx)
        elif message.type == "event":
            if message.event == "template_card_event":
                prefix = (message.key or "").split(":", 1)[0]
                handler = self.card_actions.get(prefix)
                if handler:
                    return handler(ctx)
            handler = self.events.get(message.event)
            if handler:
                return handler(ctx)
            if message.event != "template_card_event":
                return None  # other events (subscribe, enter_agent…) need no answer
        if self.fallback_handler:
            self.fallback_handler(ctx)


def first_word(text: str) -> str:
    """The command word of a message: up to the first whitespace or line break."""
    stripped = (text or "").strip()
    return stripped.split(None, 1)[0] if stripped else ""
