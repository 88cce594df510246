"""The floor for bench/callback.py: the least a WeCom callback endpoint can do.

POST /wecom/callback verifies and decrypts the callback, parses it with wechatpy and answers with
an encrypted text reply echoing the message content. No database, no directory, no templates:
whatever the real app costs on top of this is the app's own overhead.

Run with: gunicorn -w 2 -b 127.0.0.1:8000 'bench.echo_app:create_app()' (from the repo root).
"""

from flask import Flask, Response, abort, request
from wechatpy.enterprise import create_reply, parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from bench import load_sandbox


def make_crypto():
    """Build the crypto object from the sandbox credentials the real app uses."""
    sandbox = load_sandbox()
    return WeChatCrypto(sandbox.TOKEN, sandbox.AES_KEY, sandbox.CORP_ID)


def create_app():
    """Flask factory for gunicorn: `bench.echo_app:create_app()`."""
    app = Flask(__name__)
    crypto = make_crypto()

    @app.get("/wecom/callback")
    def verify():
        """Answer WeCom's URL verification (echostr) handshake."""
        args = request.args
        try:
            echo = crypto.check_signature(
                args["msg_signature"], args["timestamp"], args["nonce"], args["echostr"]
            )
        except (KeyError, InvalidSignatureException):
            abort(403)
        return Response(echo, mimetype="text/plain")

    @app.post("/wecom/callback")
    def callback():
        """Decrypt, parse and answer with an encrypted echo of a text message."""
        args = request.args
        try:
            signature, timestamp, nonce = args["msg_signature"], args["timestamp"], args["nonce"]
            xml = crypto.decrypt_message(request.get_data(), signature, timestamp, nonce)
        except (KeyError, InvalidSignatureException):
            abort(403)
        msg = parse_message(xml)
        if msg.type != "text":
            return Response("success", mimetype="text/plain")
        reply = create_reply(msg.content, msg).render()
        body = crypto.encrypt_message(reply, nonce, timestamp)
        return Response(body, mimetype="application/xml")

    return app
