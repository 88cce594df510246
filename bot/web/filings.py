"""/filings/<id>: one filing as its form defines it, and the decision form of its stage.

The page reads workflow.queries.filing_detail (who may see it, which choices the viewer has);
`POST /filings/<id>/decide` goes through workflow.decide like a card tap or a 同意 text, so
exactly one of them wins and every card of the stage is greyed out (the unit of work queues the
card updates in the same transaction)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from bot.notify import unit_of_work
from bot.web.auth import login_required
from bot.web.db import read_session
from bot.web.users import current_user
from workflow.build import record_build_id
from workflow.closure import record_closed_on
from workflow.deadlines import DEFAULT, check_due
from workflow.decide import decide
from workflow.forms import validators as v
from workflow.queries import filing_detail, outcome_names
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
    return render_template("web/filings/detail.html", d=detail, outcomes=outcome_names(),
                           default_days=DEFAULT.days)


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
        try:
            due_on = read_due(request.form.get("due_on", ""), uow.clock.local_now().date())
        except v.Invalid as exc:  # nothing is decided with a deadline the office did not mean
            flash({"key": "decision", "code": "follow_up", "message": exc.message})
            return redirect(url_for("filings.page", filing_id=filing_id), code=303)
        outcome = decide(uow, filing_id, stage, choice, reason=reason, due_on=due_on)
        problem = follow_up(uow, outcome, request.form) if outcome.decided else None
        if problem is None:
            uow.commit()
        enqueued = uow.enqueued if problem is None else 0
    if enqueued:
        app.extensions["filingbot.dispatcher_thread"].notify()
    if problem is not None:  # nothing was decided: the form says what is missing
        flash({"key": "decision", "code": "follow_up", "message": problem})
    else:
        flash({"key": "decision", "code": outcome.code, "decider": outcome.decider or "",
               "done": outcome.choice.done_text if outcome.choice else ""})
    return redirect(url_for("filings.page", filing_id=filing_id), code=303)


def read_due(text: str, today: date) -> date | None:
    """The page's deadline (限期整改, an ordered closure): a day after today and within a year,
    or None (empty) for the default 30 days. Only a choice that sets a deadline uses it."""
    text = text.strip()[:40]
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise v.Invalid("day", value=text) from None
    return check_due(day, today)


def follow_up(uow, outcome, form) -> str | None:
    """What the chat asks after a tap, given on the page with the decision: the new account's
    ID (已开通, required) and the day it was closed (已注销, today unless given). Returns the
    Chinese reason to undo the decision, or None when all is recorded."""
    try:
        if outcome.asks_build_id:
            record_build_id(uow, outcome.filing.id, form.get("build_id", "").strip()[:200])
        if outcome.asks_date and form.get("closed_on", "").strip():
            record_closed_on(uow, outcome.filing.id, form["closed_on"].strip()[:40])
    except v.Invalid as exc:
        return exc.message
    return None
