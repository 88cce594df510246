"""POST/GET /wecom/callback: the WeCom callback, as a pipeline of one-job steps.

size limit → parse envelope safely → verify + decrypt → fresh timestamp → parse → answer
(bot.wecom.inbound: dedup → route → commit) → encrypted reply.

Protocol: 接收消息与事件 (doc 90238), 加解密方案 (doc 90968), 被动回复 (doc 90241).
"""

from __future__ import annotations

import logging
import secrets
import time

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from flask import Blueprint, Response, abort, current_app, request
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from bot.wecom import events  # noqa: F401  (registers template_card_event with wechatpy)
from bot.wecom.guard import TIMESTAMP, fields_problem, timestamp_problem
from bot.wecom.inbound import handle

log = logging.getLogger(__name__)
bp = Blueprint("wecom", __name__)

MAX_BODY = 64 * 1024
QUERY_KEYS = ("msg_signature", "timestamp", "nonce")


class BadCallback(Exception):
    """A request that is not a well-formed WeCom callback (→ 400)."""


@bp.get("/wecom/callback")
def verify_url():
    """URL check (验证URL有效性): answer the decrypted echostr, raw, within 1 s."""
    args = require_query(QUERY_KEYS + ("echostr",))
    try:
        echo = crypto().check_signature(args["msg_signature"], args["timestamp"], args["nonce"],
                                        args["echostr"])
    except (InvalidSignatureException, InvalidCorpIdException):
        abort(403)
    except Exception:  # bad base64, bad padding: not something WeCom sent
        abort(400)
    refuse_stale(args["timestamp"])
    return Response(echo, mimetype="text/plain")


@bp.post("/wecom/callback")
def receive():
    """Receive a message or event and answer with an encrypted passive reply or an empty 200."""
    args = require_query(QUERY_KEYS)
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    body = request.get_data(cache=False)  # MAX_CONTENT_LENGTH caps chunked bodies too
    try:
        encrypted = encrypted_part(body)
        plain = crypto().decrypt_message({"Encrypt": encrypted}, args["msg_signature"],
                                         args["timestamp"], args["nonce"])
    except (InvalidSignatureException, InvalidCorpIdException):
        abort(403)
    except BadCallback:
        abort(400)
    except Exception:  # undecryptable payload
        abort(400)
    refuse_stale(args["timestamp"])
    try:
        message = parse_inner(plain)
    except BadCallback:
        abort(400)
    reply_xml = handle(message)
    if not reply_xml:
        return Response("", mimetype="text/plain")
    nonce = secrets.token_hex(8)
    return Response(crypto().encrypt_message(reply_xml, nonce, str(int(time.time()))),
                    mimetype="application/xml")


def require_query(keys: tuple[str, ...]) -> dict:
    """The query parameters WeCom always sends; 400 when one is missing."""
    values = {key: request.args.get(key, "") for key in keys}
    if not all(values.values()) or not TIMESTAMP.fullmatch(values["timestamp"]):
        abort(400)
    return values


def refuse_stale(timestamp: str) -> None:
    """403 for a validly signed callback whose timestamp is outside CALLBACK_WINDOW: a replay
    of a captured callback (or a clock far off). Checked before anything is written."""
    problem = timestamp_problem(timestamp, current_app.extensions["filingbot.clock"].now()
                                .timestamp(), current_app.config["SETTINGS"].callback_window)
    if problem:
        log.warning("callback refused (403), replayed or delayed: %s", problem)
        abort(403)


def crypto() -> WeChatCrypto:
    """The app's WeChatCrypto, made once (it decodes the AES key)."""
    made = current_app.extensions.get("filingbot.crypto")
    if made is None:
        settings = current_app.config["SETTINGS"]
        made = WeChatCrypto(settings.wecom_token, settings.wecom_aes_key, settings.wecom_corp_id)
        current_app.extensions["filingbot.crypto"] = made
    return made


def encrypted_part(body: bytes) -> str:
    """The Encrypt element of the outer envelope; DTDs and entities are refused."""
    try:
        root = safe_fromstring(body, forbid_dtd=True)
    except (DefusedXmlException, SyntaxError, ValueError) as exc:
        raise BadCallback(str(exc)) from None
    encrypted = (root.findtext("Encrypt") or "").strip()
    if root.tag != "xml" or not encrypted:
        raise BadCallback("no Encrypt element")
    return encrypted


def parse_inner(plain: str):
    """Parse the decrypted XML into a wechatpy message; anything not from our app is refused.

    Entities need a DOCTYPE to be declared (XML names are case-sensitive), so refusing any
    DOCTYPE keeps entity expansion out of wechatpy's parser without parsing twice."""
    if "<!DOCTYPE" in plain or "<!ENTITY" in plain:
        raise BadCallback("DTDs are not accepted")
    try:
        message = parse_message(plain)
    except Exception as exc:  # wechatpy/xmltodict raise several types for malformed XML
        raise BadCallback(str(exc)) from None
    raw = getattr(message, "_data", None) or {}
    settings = current_app.config["SETTINGS"]
    if not raw.get("FromUserName") or not raw.get("MsgType"):
        raise BadCallback("not a WeCom message")
    problem = fields_problem(raw)
    if problem:
        raise BadCallback(problem)
    if raw.get("ToUserName") != settings.wecom_corp_id:
        raise BadCallback("message for another corp")
    agent = str(raw.get("AgentID") or "").strip()
    if agent and agent != str(settings.wecom_agent_id):
        raise BadCallback("message for another app")
    return message


def init_app(app) -> None:
    """Register the callback blueprint and cap request bodies at 64 KiB."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.register_blueprint(bp)
