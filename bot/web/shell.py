"""What every page shares: `current_user` and helpers in templates, Beijing time, headers."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, request

from bot.clock import SHANGHAI
from bot.web.errors import PLAIN_BLUEPRINTS
from bot.web.users import current_user


def beijing(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC timestamp as Beijing (Asia/Shanghai) wall time."""
    if value is None:
        return ""
    return value.astimezone(SHANGHAI).strftime(fmt)


def _template_globals() -> dict:
    return {"current_user": current_user}


def _page_headers(response):
    """Pages carry personal data and a login: not cached, not framed, no Referer leaves."""
    if request.blueprint not in PLAIN_BLUEPRINTS and request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def init_app(app: Flask) -> None:
    app.add_template_filter(beijing, "beijing")
    app.context_processor(_template_globals)
    app.after_request(_page_headers)
