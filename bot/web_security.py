"""What every browser-facing page needs: a secret key for the session cookie and CSRF tokens
on every POST (Flask-WTF's CSRFProtect). WeCom's callback is signed instead, and exempt.

The key comes from SECRET_KEY; in sandbox mode, when it is not set, one is generated once and
kept in instance/secret_key, so that every worker and every restart signs alike (SPEC §9)."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
CALLBACK_PREFIX = "/wecom/"


class PageSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions for pages only: WeCom's callbacks carry no cookie, and opening a
    session costs a serializer per request (measured: ~6 % of a callback's CPU)."""

    def open_session(self, app, request):
        """No session (a null one) for the callback; the usual signed cookie elsewhere."""
        if request.path.startswith(CALLBACK_PREFIX):
            return None  # Flask then uses make_null_session
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Set the secret key and protect every POST but the WeCom callback."""
    from bot.wecom.callback import bp as callback_bp

    key = os.environ.get("SECRET_KEY", "").strip() or app.config.get("SECRET_KEY")
    if not key and app.config["SETTINGS"].sandbox:
        key = sandbox_secret_key(Path(app.instance_path))
    if key:
        app.config["SECRET_KEY"] = key
    app.session_interface = PageSessions()
    csrf.init_app(app)
    csrf.exempt(callback_bp)


def sandbox_secret_key(instance: Path) -> str:
    """The sandbox's key, made by whichever process comes first (O_EXCL), then read by all."""
    path = instance / "secret_key"
    instance.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the first process may still be writing it
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: delete it and start again") from None
    with os.fdopen(fd, "w") as handle:
        key = secrets.token_hex(32)
        handle.write(key)
    return key
