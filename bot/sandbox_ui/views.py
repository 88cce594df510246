"""/sandbox: demo members' phones side by side, over the running server.

A message typed on a phone is signed and encrypted as WeCom does and POSTed over HTTP to this
server's own /wecom/callback (through the emulator's Phone); a tap does the same with a fresh
ResponseCode. What the bot sends arrives through the emulator's message/send, and the page
polls /sandbox/feed for it. Registered in sandbox mode only: elsewhere /sandbox is a 404.
Every POST carries a CSRF token (Flask-WTF)."""

from __future__ import annotations

from datetime import date, time

import requests
from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_wtf.csrf import CSRFError, generate_csrf

from bot import links
from bot.sandbox_ui import clock_actions, phones
from bot.wecom.emulator import Phone, http_target
from bot.wecom.emulator.cards import button_keys

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")
MAX_TEXT = 4000  # characters; a one-shot form with every field is a few hundred
CALLBACK_TIMEOUT = 10  # seconds; WeCom itself gives up after 5 and retries


class Refused(Exception):
    """A request the page explains with one of its messages (see phones.html, ERRORS)."""

    def __init__(self, code: str, status: int = 400, **details):
        super().__init__(code)
        self.code, self.status, self.details = code, status, details


@bp.errorhandler(Refused)
def refused(exc: Refused):
    """A refused request as JSON: the error's code (the page words it) and its details."""
    return jsonify(error=exc.code, **exc.details), exc.status


@bp.errorhandler(CSRFError)
def csrf_failed(_exc):
    """A POST without a valid CSRF token (the page says: reload)."""
    return jsonify(error="csrf"), 400


def _app():
    return current_app._get_current_object()


def _emulator():
    return current_app.extensions["filingbot.emulator"]


def _everyone() -> list[dict]:
    return phones.members(_emulator(), current_app.extensions["filingbot.engine"])


@bp.get("")
def page():
    """The phones of the members in ?as=a,b,c (default: a staff member, their head, the office)."""
    wanted = ",".join(request.args.getlist("as")).split(",")
    everyone = _everyone()
    shown, unknown = phones.pick(everyone, wanted)
    return render_template("sandbox/phones.html", phones=shown, everyone=everyone,
                           unknown=unknown, today=clock_actions.today(_app()),
                           reminder_time=current_app.config["SETTINGS"].reminder_time,
                           max_text=MAX_TEXT, max_phones=phones.MAX_PHONES,
                           links_base=links.base_url(current_app.config["SETTINGS"]))


@bp.get("/feed")
def feed():
    """New messages per phone (?as=a,b&after=12,40), updated cards, today, what waits."""
    users = [u for u in request.args.get("as", "").split(",") if u]
    try:
        after = [int(a or 0) for a in request.args.get("after", "").split(",")] if users else []
    except ValueError:
        raise Refused("bad_request") from None
    known = {u[0] for u in _emulator().users}
    if len(after) != len(users) or not set(users) <= known or len(users) > phones.MAX_PHONES:
        raise Refused("bad_request")
    return jsonify(
        today=clock_actions.today(_app()),
        waiting=clock_actions.waiting_text(_app()),
        phones={u: phones.conversation(_emulator(), u, a)
                for u, a in zip(users, after, strict=True)},
        csrf=generate_csrf(),
    )


@bp.post("/say")
def say():
    """Type a message (one line or a pasted one-shot form) on a member's phone."""
    data = _json()
    userid = _member(data)
    text = str(data.get("text") or "").replace("\r\n", "\n").strip()
    if not text:
        raise Refused("empty")
    if len(text) > MAX_TEXT:
        raise Refused("too_long", limit=MAX_TEXT)
    _deliver(lambda phone: phone.say(userid, text))
    return jsonify(ok=True)


@bp.post("/tap")
def tap():
    """Tap a button of a card on a member's phone (a fresh ResponseCode, as WeCom sends)."""
    data = _json()
    userid = _member(data)
    task_id, key = str(data.get("task_id") or ""), str(data.get("key") or "")
    view = _emulator().card_view(task_id, userid)
    if view is None:
        raise Refused("no_card", 404)
    if view["replace_name"]:
        raise Refused("greyed", 409, replace_name=view["replace_name"])
    if key not in button_keys(view["card"]):
        raise Refused("no_button", 404)
    _deliver(lambda phone: phone.tap(userid, task_id, key))
    return jsonify(ok=True)


@bp.post("/clock")
def clock():
    """Move the sandbox clock: {"date": "2027-01-05", "time": "09:00"}, or {"reset": true}."""
    data = _json()
    try:
        if data.get("reset"):
            clock_actions.travel(_app(), None)
        else:
            day = date.fromisoformat(str(data.get("date") or ""))
            at = time.fromisoformat(str(data["time"])) if data.get("time") else None
            clock_actions.travel(_app(), day, at)
    except ValueError:
        raise Refused("bad_date") from None
    except clock_actions.NotSandbox:
        raise Refused("not_sandbox", 409) from None
    return jsonify(today=clock_actions.today(_app()))


@bp.post("/reminders")
def run_reminders():
    """Run the reminders due on the sandbox's today."""
    try:
        text = clock_actions.run_reminders(_app())
    except clock_actions.NotSandbox:
        raise Refused("not_sandbox", 409) from None
    return jsonify(result=text)


def _json() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Refused("bad_request")
    return data


def _member(data: dict) -> str:
    userid = str(data.get("userid") or "")
    if userid not in {u[0] for u in _emulator().users}:
        raise Refused("unknown_user", 404)
    return userid


def _deliver(action) -> None:
    """Post the callback to this server's /wecom/callback over HTTP, as WeCom would."""
    target = http_target(url_for("wecom.receive", _external=True), timeout=CALLBACK_TIMEOUT)
    try:
        delivery = action(Phone(_emulator(), target))
    except requests.RequestException as exc:
        raise Refused("unreachable", 502, detail=type(exc).__name__) from None
    except LookupError:  # the card changed between our check and the tap
        raise Refused("greyed", 409, replace_name="") from None
    if delivery.status != 200:
        raise Refused("callback_failed", 502, status=delivery.status)
