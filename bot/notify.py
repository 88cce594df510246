"""How the workflow's effects reach people on WeCom: texts and decision cards queued in the
outbox, in the unit of work's transaction (implements workflow.uow.Notifier)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from bot import links, outbox
from bot.render import render_card, render_text
from bot.sql import insert_many
from models import Card, Department, OutboxMessage, User
from workflow.changes import befores, field_text
from workflow.kinds import kind_of
from workflow.uow import SYSTEM, Actor, UnitOfWork

RESPONSE_CODE_LIFE = timedelta(hours=72)  # single use, 72 h (doc 94888)
CARD_ROWS = 6  # horizontal_content_list holds at most 6 items (doc 90236)
CARD_BUTTONS = 6  # button_list holds at most 6 buttons (doc 90236)


class OutboxNotifier:
    """Texts rendered from templates/messages, cards from templates/cards, into the outbox."""

    def tell(self, session, userids, template, *, now, automatic=False, dedup_key=None,
             hold=None, **context) -> None:
        """Queue a text message to `userids` (delivered by the outbox dispatcher), held for
        `hold` when given."""
        outbox.enqueue_text(session, userids, render_text(template, **context),
                            automatic=automatic, dedup_key=dedup_key, now=now,
                            not_before=now + hold if hold else None)

    def release(self, session, dedup_key, userids, template, *, now, again=True,
                **context) -> None:
        """Send the held message `dedup_key` now, rendered again; if it already went out (its
        hold ended), the new text follows it only when `again`."""
        content = render_text(template, **context)
        if outbox.release_text(session, dedup_key, content, now=now) or not again:
            return
        outbox.enqueue_text(session, userids, content, now=now)

    def send_card(self, session, filing, stage, recipients, *, now, settings=None) -> Card:
        """Queue one button card for `recipients` and remember its task_id."""
        task_id = card_task_id(filing, stage)
        card = render_card("decision", **card_context(session, filing, stage, task_id,
                                                      link=links.filing_url(settings, filing.id)))
        row = Card(task_id=task_id, filing_id=filing.id, stage=stage.name, recipients=recipients,
                   created_at=now)
        session.add(row)
        outbox.enqueue_card(session, recipients, card, now=now)
        return row

    def send_cards(self, session, cards, *, now, settings=None) -> int:
        """send_card for many (filing, stage, recipients) at once, the same Card and outbox
        rows: the 变更's old values read for all in two queries (changes.befores), the rows
        inserted as plain rows (bot.sql.insert_many, outbox.enqueue_many), not an ORM
        object each — the daily run re-sends hundreds of nudged cards. Returns how many
        cards were queued, one message each as send_card counts (the submitters and departments are read from the session's
        identity map when the caller holds them)."""
        if not cards:
            return 0
        old = befores(session, [filing for filing, _stage, _recipients in cards])
        rows, messages = [], []
        for filing, stage, recipients in cards:
            task_id = card_task_id(filing, stage)
            card = render_card("decision", **card_context(
                session, filing, stage, task_id, link=links.filing_url(settings, filing.id),
                before=old.get(filing.id)))
            rows.append((task_id, filing.id, stage.name, recipients))
            messages.append((recipients, {"msgtype": "template_card", "template_card": card}))
        task_ids, filing_ids, stages, people = (list(column) for column in zip(*rows))
        session.connection().execute(*insert_many(session, Card.__table__, {
            "task_id": task_ids, "filing_id": filing_ids, "stage": stages,
            "recipients": people}, {"created_at": now}))
        outbox.enqueue_many(session, messages, now=now)
        return len(cards)

    def close_cards(self, session, filing, stage_name, closed_text, *, now, tapped=None,
                    click_code=None) -> None:
        """Grey out every card of the stage for all its recipients (update_template_card, atall).

        The tapped card is updated with the click's fresh response code; other cards with the
        code their send returned, while it is unused and younger than 72 h. A card still
        waiting in the outbox is not sent at all; one on its way to WeCom is greyed out by the
        dispatcher as soon as its response code arrives (bot.outbox.dispatcher). The rows are
        locked, so that handover cannot fall between this decision and the send's answer."""
        cards = session.scalars(select(Card).where(
            Card.filing_id == filing.id, Card.stage == stage_name,
            Card.closed_text.is_(None)).with_for_update()).all()
        for card in cards:
            card.closed_text = closed_text
            code = click_code if card.task_id == tapped else None
            if code is None and card.response_code and card.response_code_at \
                    and now - card.response_code_at < RESPONSE_CODE_LIFE:
                code = card.response_code
            if code:
                outbox.enqueue_card_update(session, code, now=now, replace_name=closed_text,
                                           task_id=card.task_id, dedup_key=f"close:{card.task_id}")
            card.response_code = None  # used, or no longer usable
            session.execute(
                update(OutboxMessage).where(OutboxMessage.card_task_id == card.task_id,
                                            OutboxMessage.kind == "send",
                                            OutboxMessage.status == "pending")
                .values(status="dead", last_error="superseded: decided before delivery"))


    def card_is_live(self, session, card, *, now) -> bool:
        """Whether `card` can still be tapped: its response code is younger than 72 h, or its
        send is still on its way (queued, not dead); never for a card that was not sent."""
        if card is None:
            return False
        if card.response_code_at is not None:
            return card_is_live(card, now)
        return session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.card_task_id == card.task_id, OutboxMessage.kind == "send",
            OutboxMessage.status.in_(("pending", "sending"))).limit(1)) is not None

    def live_cards(self, session, cards, *, now) -> set[int]:
        """The ids of `cards` that card_is_live would call live, in one query (待办 asks for
        a page of cards: during a campaign their sends are queued, not yet delivered)."""
        live = {c.id for c in cards if card_is_live(c, now)}
        queued = {c.task_id: c.id for c in cards if c.response_code_at is None}  # unique ids
        if queued:
            live.update(queued[task_id] for task_id in session.scalars(
                select(OutboxMessage.card_task_id).where(
                    OutboxMessage.card_task_id.in_(list(queued)), OutboxMessage.kind == "send",
                    OutboxMessage.status.in_(("pending", "sending")))))
        return live


def card_task_id(filing, stage) -> str:
    """A decision card's task_id: [0-9A-Za-z_-@], at most 128 bytes (doc 90236)."""
    return f"f{filing.id}-{stage.name}-{secrets.token_hex(6)}"


def card_context(session, filing, stage, task_id: str, link: str = "",
                 before: dict | None = None) -> dict:
    """What the decision card shows: the form's first fields, who filed it, from where, and
    the link to the filing's page (`card_action`, and a 查看详情 button while one fits);
    `before`: a 变更's old values when read already (changes.befores)."""
    form = kind_of(filing).form
    rows = [(f.label, clip(field_text(session, filing, form, f, before), 30))
            for f in form.fields
            if f.on_card and filing.fields.get(f.name) not in (None, "", [])][:CARD_ROWS]
    submitter = session.get(User, filing.submitter)
    department = session.get(Department, filing.department_id) if filing.department_id else None
    return {"filing": filing, "stage": stage, "form": form, "rows": rows, "task_id": task_id,
            "link": link or links.filing_url(None, filing.id), "max_buttons": CARD_BUTTONS,
            "submitter": submitter.name if submitter else filing.submitter,
            "department": department.name if department else ""}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def card_is_live(card, now) -> bool:
    """Whether a sent card can still be updated (its response code is younger than 72 h)."""
    return card is not None and card.response_code_at is not None \
        and now - card.response_code_at < RESPONSE_CODE_LIFE


def unit_of_work(app, *, actor: Actor = SYSTEM, as_of=None, session: Session | None = None
                 ) -> UnitOfWork:
    """A unit of work of `app` (jobs, CLI commands, web requests): its own session on the
    app's engine, unless `session` is given (a callback's, joined to its connection)."""
    return UnitOfWork(session or Session(app.extensions["filingbot.engine"]),
                      settings=app.config["SETTINGS"], clock=app.extensions["filingbot.clock"],
                      notifier=NOTIFIER, actor=actor, as_of=as_of)


NOTIFIER = OutboxNotifier()
