"""Who decides at each stage, and the button cards that reach them (SPEC §5.1-5.2)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update

from bot import directory, outbox
from bot.render import render_card
from bot.roles import department_heads, holders
from handlers.approval.stages import Stage, stage_of
from handlers.forms.answers import show
from handlers.forms.catalog import FORMS
from models import Card, Department, OutboxMessage, User

RESPONSE_CODE_LIFE = timedelta(hours=72)  # single use, 72 h (doc 94888)
CARD_ROWS = 6  # horizontal_content_list holds at most 6 items (doc 90236)


def approvers(session, filing, stage: Stage) -> list[str]:
    """Userids entitled to decide `filing` at `stage`; never its submitter (SPEC §2)."""
    if stage.name == "dept":
        userids = department_heads(session, filing.department_id)
    elif stage.name == "office":
        userids = holders(session, "office")
    else:
        userids = holders(session, "tech")
    return [u for u in userids if u != filing.submitter]


def route(ctx, filing) -> None:
    """Send the card of the filing's current stage; with nobody to send it to, say so."""
    stage = stage_of(filing)
    if stage is None:
        return
    recipients = approvers(ctx.session, filing, stage)
    looked_up = getattr(ctx, "heads_looked_up", None)  # None: not in a callback (a job)
    if not recipients and stage.name == "dept" and looked_up is not None \
            and filing.department_id not in looked_up \
            and not department_heads(ctx.session, filing.department_id):
        raise directory.HeadsUnknown(filing.department_id)  # WeCom is asked, then again
    if not recipients:
        ctx.send([filing.submitter], "approval/no_approver", filing=filing, stage=stage)
        admins = holders(ctx.session, "admin")
        if admins:
            ctx.send(admins, "approval/admin_alert", filing=filing, stage=stage,
                     form=FORMS[filing.kind])
        return
    send_card(ctx, filing, stage, recipients)


def send_card(ctx, filing, stage: Stage, recipients: list[str]) -> Card:
    """Queue one button card for `recipients` and remember its task_id."""
    task_id = f"f{filing.id}-{stage.name}-{secrets.token_hex(6)}"  # [0-9A-Za-z_-@], ≤ 128 bytes
    card = render_card("decision", **card_context(ctx.session, filing, stage, task_id))
    row = Card(task_id=task_id, filing_id=filing.id, stage=stage.name, recipients=recipients,
               created_at=ctx.clock.now())
    ctx.session.add(row)
    outbox.enqueue_card(ctx.session, recipients, card, now=ctx.clock.now())
    ctx.enqueued += 1
    return row


def card_context(session, filing, stage: Stage, task_id: str) -> dict:
    form = FORMS[filing.kind]
    rows = [(f.label, clip(show(f, filing.fields[f.name]), 30)) for f in form.fields
            if f.on_card and filing.fields.get(f.name) not in (None, "", [])][:CARD_ROWS]
    submitter = session.get(User, filing.submitter)
    department = session.get(Department, filing.department_id) if filing.department_id else None
    return {"filing": filing, "stage": stage, "form": form, "rows": rows, "task_id": task_id,
            "submitter": submitter.name if submitter else filing.submitter,
            "department": department.name if department else ""}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def close_cards(ctx, filing, stage_name: str, closed_text: str, *, tapped: str | None = None,
                click_code: str | None = None) -> None:
    """Grey out every card of the stage for all its recipients (update_template_card, atall).

    The tapped card is updated with the click's fresh response code; other cards with the
    code their send returned, while it is unused and younger than 72 h. A card still waiting
    in the outbox is not sent at all."""
    now = ctx.clock.now()
    cards = ctx.session.scalars(select(Card).where(
        Card.filing_id == filing.id, Card.stage == stage_name, Card.closed_text.is_(None))).all()
    for card in cards:
        card.closed_text = closed_text
        code = click_code if card.task_id == tapped else None
        if code is None and card.response_code and card.response_code_at \
                and now - card.response_code_at < RESPONSE_CODE_LIFE:
            code = card.response_code
        if code:
            outbox.enqueue_card_update(ctx.session, code, now=now, replace_name=closed_text,
                                       task_id=card.task_id, dedup_key=f"close:{card.task_id}")
            ctx.enqueued += 1
        card.response_code = None  # used, or no longer usable
        ctx.session.execute(
            update(OutboxMessage).where(OutboxMessage.card_task_id == card.task_id,
                                        OutboxMessage.kind == "send",
                                        OutboxMessage.status == "pending")
            .values(status="dead", last_error="superseded: decided before delivery"))
