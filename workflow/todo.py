"""待办: what waits for a member's decision, and a card they can still tap for each — a fresh
one only where the last card of that stage they got can no longer be tapped (its response code
expired, or it never reached them), so asking again does not multiply live cards.

The oldest TODO_PAGE are listed, found in SQL (workflow.queries.waiting_page) with their cards
read in one query, however many wait."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from models import Card, Filing
from workflow.kinds import Stage
from workflow.waiting import waiting_page

FRESH_CARDS = 5  # fresh cards sent by one 待办 at most
TODO_PAGE = 20  # filings listed by one 待办 at most (the oldest)


@dataclass(frozen=True)
class Waiting:
    """A filing waiting for the member's decision, and whether 待办 sent them a fresh card."""

    filing: Filing
    stage: Stage
    fresh_card: bool


@dataclass(frozen=True)
class Todo:
    """The oldest filings waiting for the member, and how many wait in all."""

    items: list[Waiting]
    total: int


def todo(uow, userid: str, *, limit: int = FRESH_CARDS, size: int = TODO_PAGE) -> Todo:
    """The filings waiting for `userid`, oldest first; a fresh card for at most `limit` of
    those whose last card to them is no longer live (workflow.uow.UnitOfWork.card_is_live)."""
    page, total = waiting_page(uow.session, userid, size)
    cards = last_cards(uow.session, [f.id for f, _ in page], userid)
    live = uow.live_cards(cards.values())
    found, sent = [], 0
    for filing, stage in page:
        card = cards.get((filing.id, stage.name))
        fresh = sent < limit and (card is None or card.id not in live)
        if fresh:
            uow.send_card(filing, stage, [userid])
            sent += 1
        found.append(Waiting(filing, stage, fresh))
    return Todo(found, total)


def last_cards(session, filing_ids: list[int], userid: str) -> dict[tuple[int, str], Card]:
    """(filing id, stage) → the newest undecided card of that stage sent to `userid`."""
    found: dict[tuple[int, str], Card] = {}
    if not filing_ids:
        return found
    for card in session.scalars(select(Card).where(
            Card.filing_id.in_(filing_ids), Card.closed_text.is_(None))
            .order_by(Card.id.desc())):
        if userid in (card.recipients or []):
            found.setdefault((card.filing_id, card.stage), card)
    return found

