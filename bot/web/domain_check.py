"""The domain check file WeCom's console asks for when you set an app's 可信域名.

The console shows a file named like WW_verify_AbC123.txt to download and put at the root of
the domain; put it in the instance folder (beside secret_key) and the app serves it at
/WW_verify_AbC123.txt. Nothing else in the instance folder is ever served."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, send_from_directory

bp = Blueprint("domain_check", __name__)

TOKEN_RE = re.compile(r"[A-Za-z0-9]{1,64}")


@bp.get("/WW_verify_<token>.txt")
def verify_file(token: str):
    """Serve instance/WW_verify_<token>.txt; a 404 when it is not there."""
    if not TOKEN_RE.fullmatch(token):
        abort(404)
    return send_from_directory(current_app.instance_path, f"WW_verify_{token}.txt",
                               mimetype="text/plain")
