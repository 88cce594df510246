"""/filings/<id>: one filing as its form defines it, and the decision form of its stage.

The page reads workflow.queries.filing_detail (who may see it, which choices the viewer has);
`POST /filings/<id>/decide` goes through workflow.decide like a card tap or a 同意 text, so
exactly one of them wins and every card of the stage is greyed out (the unit of work queues the
card updates in the same transaction)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from bot.notify import unit_of_work
from bot.web.auth import login_required
from bot.web.db import read_session
from bot.web.users import current_user
from workflow.decide import decide
from workflow.queries import filing_detail
from workflow.uow import Actor

bp = Blueprint("filings", __name__)

REASON_MAX = 500  # characters kept of a reason typed on the page


@bp.get("/filings/<int:filing_id>")
@login_required
def page(filing_id: int):
    """The filing, its account, submitter, decisions, stage, and the viewer's choices."""
    detail = filing_detail(read_session(), current_user.viewer, filing_id)
    if detail is None:
        abort(404)
    return render_template("web/filings/detail.html", d=detail)


@bp.post("/filings/<int:filing_id>/decide")
@login_required
def decide_view(filing_id: int):
    """Decide as the signed-in member through workflow.decide; the page says what happened."""
    if filing_detail(read_session(), current_user.viewer, filing_id) is None:
        abort(404)
    stage, choice = request.form.get("stage", ""), request.form.get("choice", "")
    reason = request.form.get("reason", "").strip()[:REASON_MAX] or None
    app = current_app._get_current_object()
    with unit_of_work(app, actor=Actor(current_user.userid, current_user.name)) as uow:
        outcome = decide(uow, filing_id, stage, choice, reason=reason)
        uow.commit()
        enqueued = uow.enqueued
    if enqueued:
        app.extensions["filingbot.dispatcher_thread"].notify()
    flash({"key": "decision", "code": outcome.code, "decider": outcome.decider or "",
           "done": outcome.choice.done_text if outcome.choice else ""})
    return redirect(url_for("filings.page", filing_id=filing_id), code=303)
