"""Login with WeCom, logout, and the decorators every page uses (WECOM.md §7A).

    /login            → 302 to WeCom's OAuth2 link (in-app browser) or web login (elsewhere);
                        sandbox: a list of the demo users to pick from (POST, CSRF-checked)
    /login/callback   ← ?code=…&state=…: state checked against the session (else 400), the code
                        spent with auth/getuserinfo for the userid, the session cookie set
    POST /logout      → the session cleared

The session cookie is Flask's signed cookie: HttpOnly, SameSite=Lax, Secure under an https
PUBLIC_URL, 8 hours (bot.web.init_app). It holds the userid and the login time, nothing secret.
"""

from __future__ import annotations

import hmac
import secrets
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from bot import directory
from bot.web.db import clock, read_session
from bot.web.users import get_current_user, is_sandbox_picker
from bot.web.wecom_login import LoginRefused, authorize_link, exchange_code, in_wecom

bp = Blueprint("auth", __name__)


def login_required(view):
    """Send a visitor without a valid session to /login?next=<this page>."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if get_current_user() is None:
            here = request.full_path if request.query_string else request.path
            return redirect(url_for("auth.login", next=here))
        return view(*args, **kwargs)
    return wrapped


def roles_required(*roles: str):
    """Like login_required, and a 403 page unless the user holds one of `roles`."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = get_current_user()
            if user is None:
                return login_required(view)(*args, **kwargs)
            if not user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else (another host, a scheme, `//x`,
    backslashes, control characters, the login pages themselves) becomes "/"."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ch == "\\" or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith(("/login", "/logout")):
        return "/"
    return value


def _start(next_url: str) -> str:
    """A fresh state ([A-Za-z0-9], as WeCom requires) kept in the session with `next`."""
    state = secrets.token_hex(16)
    session["login_state"], session["login_next"] = state, next_url
    return state


@bp.get("/login")
def login():
    """Already signed in: go on. Sandbox: the demo users. Else: 302 to WeCom."""
    next_url = safe_next(request.args.get("next"))
    if get_current_user() is not None:
        return redirect(next_url)
    if is_sandbox_picker():
        return render_template("web/login_sandbox.html", users=_demo_users(), next=next_url)
    settings = current_app.config["SETTINGS"]
    base = settings.public_url or request.host_url.rstrip("/")
    link = authorize_link(corp_id=settings.wecom_corp_id, agent_id=settings.wecom_agent_id,
                          redirect_uri=base + url_for("auth.callback"), state=_start(next_url),
                          inside_wecom=in_wecom(request.headers.get("User-Agent", "")))
    return redirect(link, code=302)


@bp.post("/login")
def sandbox_login():
    """Sandbox only: the picked demo user "confirms" in the emulator, which issues a code; the
    browser then takes the same /login/callback road as with WeCom."""
    if not is_sandbox_picker():
        abort(404)
    from bot.wecom.emulator import oauth

    emulator = current_app.extensions["filingbot.emulator"]
    userid = request.form.get("userid", "")
    if userid not in {u[0] for u in emulator.users}:
        return render_template("web/login_sandbox.html", users=_demo_users(),
                               next=safe_next(request.form.get("next")), unknown=userid), 400
    state = _start(safe_next(request.form.get("next")))
    return redirect(url_for("auth.callback", code=oauth.issue_code(emulator, userid=userid),
                            state=state), code=303)


@bp.get("/login/callback")
def callback():
    """Check the state, spend the code, start the session, go to `next`."""
    expected = session.pop("login_state", None)
    next_url = safe_next(session.pop("login_next", None))
    state = request.args.get("state", "")
    if not expected or not hmac.compare_digest(expected.encode(), state.encode()):
        return render_template("web/login_failed.html", reason="state", errcode=None), 400
    app = current_app._get_current_object()
    try:
        userid = exchange_code(app.extensions["filingbot.client"], request.args.get("code", ""))
    except LoginRefused as exc:
        return render_template("web/login_failed.html", reason=exc.reason,
                               errcode=exc.errcode), exc.status
    directory.ensure_user(app.extensions["filingbot.engine"], app.extensions["filingbot.client"],
                          userid)
    session.clear()  # nothing from before the login survives it
    session.permanent = True
    session["uid"], session["login_at"] = userid, clock().now().timestamp()
    if get_current_user(refresh=True) is None:
        session.clear()
        return render_template("web/login_failed.html", reason="not_member", errcode=None), 403
    return redirect(next_url)


@bp.post("/logout")
def logout():
    """End the session; the login page says so."""
    session.clear()
    return render_template("web/logged_out.html")


@bp.get("/")
@login_required
def index():
    """The landing page: what the signed-in user can open."""
    return render_template("web/index.html")


def _demo_users() -> list[dict]:
    """The sandbox directory as the picker shows it: name, position, departments, roles."""
    from sqlalchemy import select

    from bot.wecom.emulator.directory import DEMO_DEPARTMENTS
    from models import RoleGrant

    names = {d: name for d, name, _ in DEMO_DEPARTMENTS}
    granted: dict[str, set[str]] = {}
    for userid, role in read_session().execute(select(RoleGrant.userid, RoleGrant.role)):
        granted.setdefault(userid, set()).add(role)
    return [{"userid": uid, "name": name, "position": position,
             "departments": [names.get(d, str(d)) for d, _ in places],
             "leader": any(leader for _, leader in places),
             "roles": sorted(granted.get(uid, ()))}
            for uid, name, position, places in current_app.extensions["filingbot.emulator"].users]
