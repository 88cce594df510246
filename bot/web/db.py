"""The database for a web request: one read-only session per request, writes in their own.

On SQLite a read-only transaction takes no write lock (bot.db), so a page being rendered never
holds up the callbacks; a view that changes something opens `write_session()` and commits."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlmodel import Session

from bot.db import get_engine


def read_session() -> Session:
    """This request's read-only session (closed when the request ends)."""
    if "web_read_session" not in g:
        engine = get_engine().execution_options(read_only=True)
        g.web_read_session = Session(engine)
    return g.web_read_session


def write_session() -> Session:
    """A new session for a change; the caller commits (or it rolls back when closed)."""
    return Session(get_engine())


def clock():
    """The app's clock (movable in tests)."""
    return current_app.extensions["filingbot.clock"]


def _close(_exc=None) -> None:
    session = g.pop("web_read_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
