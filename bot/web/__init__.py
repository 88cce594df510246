"""The web surface (SPEC §8): /healthz, WeCom login, and the office's pages.

`init_app` wires the shell every page stands on: signed session cookie (8 h), CSRF on every
POST, Chinese error pages, templates/web/ on WeUI (templates/static/weui/), and `current_user`.
A page is a blueprint view decorated with `login_required` or `roles_required(...)`
(bot.web.auth) that reads through `read_session()` (bot.web.db) and renders a template
extending web/base.html (its nav entries: templates/web/_nav.html).
"""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from jinja2 import StrictUndefined

from bot.web import (
    accounts,
    admin_roles,
    audit,
    auth,
    db,
    domain_check,
    errors,
    filings,
    health,
    ledger,
    logs,
    office,
    shell,
)
from bot.web.sessions import PageSessions
from bot.web.users import SESSION_LIFETIME
from bot.wecom.callback import bp as callback_bp

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Configure sessions and CSRF, register the web blueprints, error pages and filters."""
    settings = app.config["SETTINGS"]
    app.secret_key = settings.secret_key
    app.session_interface = PageSessions()
    app.config.update(
        SESSION_COOKIE_NAME="filingbot_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        # A form stays usable as long as the login does.
        WTF_CSRF_TIME_LIMIT=int(SESSION_LIFETIME.total_seconds()),
    )
    app.jinja_env.undefined = StrictUndefined
    app.before_request(ledger.allow_uploads)  # before CSRF, which reads the (large) form
    csrf.init_app(app)
    csrf.exempt(callback_bp)  # WeCom signs its callbacks; it has no session to hold a token
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin_roles.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(filings.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(office.bp)
    app.register_blueprint(ledger.bp)
    app.register_blueprint(domain_check.bp)
    db.init_app(app)
    errors.init_app(app)
    shell.init_app(app)
    logs.init_app(app)
