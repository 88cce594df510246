"""Chinese error pages for the web surface: 400 (and a refused CSRF token), 403, 404, 405, 500.

No stack trace, no exception text and no request data ever reach the page. The WeCom callback
and /healthz keep their plain answers: WeCom and load balancers read status codes, not pages."""

from __future__ import annotations

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

PLAIN_BLUEPRINTS = {"wecom", "health", "domain_check"}


def handle_http_error(exc: HTTPException):
    """Render templates/web/error.html for the error's status."""
    if request.blueprint in PLAIN_BLUEPRINTS:
        return exc
    status = exc.code or 500
    kind = "csrf" if isinstance(exc, CSRFError) else status
    if status >= 500:
        g.web_user_disabled = True  # the database may be what failed: do not ask it again
    try:
        return render_template("web/error.html", status=status, kind=kind), status
    except Exception:  # noqa: BLE001 - the page must render even when the user cannot load
        g.pop("web_user", None)
        g.web_user_disabled = True
        return render_template("web/error.html", status=status, kind=kind), status


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
