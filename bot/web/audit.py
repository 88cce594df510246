"""/audit: the append-only audit log for office, publicity and admin (SPEC §8), filtered by
filing, account, person and Beijing date range, newest first, paged."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from bot.web.audit_query import parse_filter, search
from bot.web.auth import roles_required
from bot.web.db import read_session

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@roles_required("office", "publicity", "admin")
def page():
    """The filtered log; a field that cannot be read is named on the page and nothing is shown."""
    flt, problems = parse_filter(request.args)
    result = None if problems else search(read_session(), flt)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("web/audit.html", flt=flt, problems=problems, result=result,
                           args=args), 400 if problems else 200
