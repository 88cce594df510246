"""The emulator's HTTP API under /cgi-bin/, answering as qyapi.weixin.qq.com does:
HTTP 200 with a JSON body carrying errcode/errmsg (global error codes, doc 90313)."""

from __future__ import annotations

import json

from flask import Flask, jsonify, request

from bot.render import TEMPLATES_DIR
from bot.wecom.emulator import oauth
from bot.wecom.emulator.core import ApiError, Emulator


def create_emulator_app(emulator: Emulator) -> Flask:
    """A WSGI app serving the emulator's WeCom API."""
    app = Flask("wecom_emulator", template_folder=str(TEMPLATES_DIR))

    def answer(endpoint: str, call, *, needs_token: bool = True):
        fault = emulator.take_fault()
        if fault and fault[0] == "http500":
            emulator.record_call(endpoint, -500)
            return "internal error", 500
        try:
            if fault:
                raise ApiError(fault[1], "injected fault")
            if needs_token:
                emulator.check_token(request.args.get("access_token"))
            result = call()
        except ApiError as exc:
            emulator.record_call(endpoint, exc.errcode)
            return jsonify(errcode=exc.errcode, errmsg=exc.errmsg)
        emulator.record_call(endpoint, 0)
        return jsonify(errcode=0, errmsg="ok", **result)

    def body() -> dict:
        try:
            data = json.loads(request.get_data() or b"{}")
        except ValueError:
            raise ApiError(47001, "data format error") from None  # 解析JSON/XML内容错误
        if not isinstance(data, dict):
            raise ApiError(47001, "data format error")
        return data

    def int_arg(name: str, default=None):
        value = request.args.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise ApiError(40058, f"invalid {name}") from None

    @app.get("/cgi-bin/gettoken")
    def gettoken():
        return answer("gettoken", lambda: emulator.get_token(request.args.get("corpid", ""),
                                                              request.args.get("corpsecret", "")),
                      needs_token=False)

    @app.post("/cgi-bin/message/send")
    def message_send():
        return answer("message/send", lambda: emulator.send(body()))

    @app.post("/cgi-bin/message/update_template_card")
    def update_template_card():
        return answer("message/update_template_card", lambda: emulator.update_card(body()))

    @app.get("/cgi-bin/user/get")
    def user_get():
        return answer("user/get", lambda: emulator.user_get(request.args.get("userid", "")))

    @app.get("/cgi-bin/user/list")
    def user_list():
        return answer("user/list", lambda: emulator.user_list(int_arg("department_id", 1), False))

    @app.get("/cgi-bin/user/simplelist")
    def user_simplelist():
        return answer("user/simplelist",
                      lambda: emulator.user_list(int_arg("department_id", 1), True))

    @app.get("/cgi-bin/department/list")
    def department_list():
        return answer("department/list", lambda: emulator.department_list(int_arg("id"), False))

    @app.get("/cgi-bin/department/simplelist")
    def department_simplelist():
        return answer("department/simplelist",
                      lambda: emulator.department_list(int_arg("id"), True))

    @app.get("/cgi-bin/department/get")
    def department_get():
        return answer("department/get", lambda: emulator.department_get(int_arg("id", 0)))

    oauth.register(app, emulator, answer)
    return app
