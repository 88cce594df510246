"""待办: what waits for a member's decision, and a card they can still tap for each — a fresh
one only where the last card of that stage they got can no longer be tapped (its response code
expired, or it never reached them), so asking again does not multiply live cards."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from models import Card, Filing
from workflow.kinds import Stage
from workflow.queries import waiting_for

FRESH_CARDS = 5  # fresh cards sent by one 待办 at most


@dataclass(frozen=True)
class Waiting:
    """A filing waiting for the member's decision, and whether 待办 sent them a fresh card."""

    filing: Filing
    stage: Stage
    fresh_card: bool


def todo(uow, userid: str, *, limit: int = FRESH_CARDS) -> list[Waiting]:
    """The filings waiting for `userid`, oldest first; a fresh card for at most `limit` of
    those whose last card to them is no longer live (workflow.uow.UnitOfWork.card_is_live)."""
    found, sent = [], 0
    for filing, stage in waiting_for(uow.session, userid):
        fresh = sent < limit and not uow.card_is_live(last_card(uow.session, filing, stage,
                                                                userid))
        if fresh:
            uow.send_card(filing, stage, [userid])
            sent += 1
        found.append(Waiting(filing, stage, fresh))
    return found


def last_card(session, filing: Filing, stage: Stage, userid: str) -> Card | None:
    """The newest undecided card of the filing's stage that was sent to `userid`."""
    for card in session.scalars(select(Card).where(
            Card.filing_id == filing.id, Card.stage == stage.name, Card.closed_text.is_(None))
            .order_by(Card.id.desc())):
        if userid in (card.recipients or []):
            return card
    return None
