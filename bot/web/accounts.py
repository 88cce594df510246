"""/accounts: the registry (filters: department, platform, status, text; paged) and
/accounts/<id>: one account, the filings that shaped it and its 负责人/管理员 over time.

Both read workflow.queries (registry, account_history), which hold who sees what."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from bot.web.auth import login_required
from bot.web.db import read_session
from bot.web.users import current_user
from models import AccountStatus
from workflow.forms.validators import PLATFORMS
from workflow.kinds import FORMS
from workflow.queries import RegistryFilters, account_history, outcome_names, registry
from workflow.statistics import departments

bp = Blueprint("accounts", __name__)

TEXT_MAX = 50  # characters of a search kept


def _int(value: str | None) -> int | None:
    """A positive integer from a query argument, else None."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


@bp.get("/accounts")
@login_required
def page():
    """The registry as the viewer may see it; an unreadable filter is ignored, not an error."""
    args = request.args
    status = args.get("status", "")
    platform = args.get("platform", "")
    filters = RegistryFilters(
        department_id=_int(args.get("department")),
        platform=platform if platform in dict(PLATFORMS) else None,
        status=AccountStatus(status) if status in AccountStatus._value2member_map_ else None,
        text=args.get("q", "").strip()[:TEXT_MAX])
    session = read_session()
    result = registry(session, current_user.viewer, filters, page=_int(args.get("page")) or 1)
    viewer = current_user.viewer
    # Who sees every account picks among every department (a province: thousands of options,
    # rendered within the page's time); the others among their own, the only ones they see.
    names = dict(departments(session, None if viewer.sees_all_accounts else viewer.departments))
    keep = {k: v for k, v in args.items() if k != "page" and v}
    return render_template("web/accounts/list.html", result=result, filters=filters,
                           departments=names, platforms=PLATFORMS, args=keep)


@bp.get("/accounts/<int:account_id>")
@login_required
def detail(account_id: int):
    """One account with its filings and people over time; 404 when not the viewer's."""
    history = account_history(read_session(), current_user.viewer, account_id)
    if history is None:
        abort(404)
    field_labels = {f.name: f.label for form in FORMS.values() for f in form.fields}
    return render_template("web/accounts/detail.html", h=history, forms=FORMS,
                           platforms=dict(PLATFORMS), field_labels=field_labels,
                           outcomes=outcome_names())
