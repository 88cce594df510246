"""One unit of work per entry point (a callback, a job, a CLI command, a web request): its
session, who acts, the clock, and the effects it collects — messages to people, cards for a
stage's deciders, card updates — written in the same transaction as the change that causes them
(cosmicpython's unit of work; SPEC §7's transactional outbox).

The workflow layer knows nothing of how a message reaches a person: `Notifier` is given by the
composition root (bot.notify.OutboxNotifier renders templates and queues WeCom messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session


@dataclass(frozen=True)
class Actor:
    """Who acts: a member of the directory (userid and display name), or a job/CLI name."""

    userid: str
    name: str


SYSTEM = Actor("system", "系统")


class Notifier(Protocol):
    """How effects reach people; every call writes rows in the unit of work's session."""

    def tell(self, session: Session, userids: list[str], template: str, *, now, automatic: bool,
             dedup_key: str | None, hold=None, **context) -> None:
        """Queue the text of `template` for `userids` (held for `hold`, a timedelta, if given)."""

    def release(self, session: Session, dedup_key: str, userids: list[str], template: str, *,
                now, again: bool = True, **context) -> None:
        """Send the held message `dedup_key` now with the text of `template` (if it went out
        already, send the new text too only when `again`)."""

    def send_card(self, session: Session, filing, stage, recipients: list[str], *, now,
                  settings=None):
        """Queue the decision card of `stage` for `recipients` (linking to the filing's page
        at the address `settings` give); return its Card row."""

    def send_cards(self, session: Session, cards: list, *, now, settings=None) -> int:
        """send_card for each (filing, stage, recipients) of `cards`, the same rows written
        in bulk; return how many messages were queued."""

    def close_cards(self, session: Session, filing, stage_name: str, closed_text: str, *, now,
                    tapped: str | None = None, click_code: str | None = None) -> None:
        """Grey out every card of the stage for all its recipients."""

    def card_is_live(self, session: Session, card, *, now) -> bool:
        """Whether a card (a Card row, or None) can still be tapped and greyed out."""

    def live_cards(self, session: Session, cards, *, now) -> set[int]:
        """The ids of `cards` (Card rows) that can still be tapped: card_is_live for each, in
        one query for them all."""


class UnitOfWork:
    """A transaction and the effects it collects. Rolled back unless committed.

    Bound to an engine it owns its transaction (`commit`, `rollback`, `with uow:`); bound to a
    callback's open connection it joins that transaction, which the callback pipeline commits
    together with the inbound key (bot.wecom.inbound)."""

    def __init__(self, session: Session, *, settings, clock, notifier: Notifier,
                 actor: Actor = SYSTEM, as_of=None, heads_looked_up: frozenset | None = None):
        self.session = session
        self.settings = settings
        self.clock = clock  # timestamps of rows and messages
        self.as_of = as_of or clock  # "now" for what is due (`reminders run --today`)
        self.notifier = notifier
        self.actor = actor
        self.enqueued = 0  # messages and card updates queued: the dispatcher is woken after
        # A callback's departments whose heads WeCom was asked for while handling its message;
        # None where no lookup can be made (jobs, CLI): see workflow.routing.HeadsUnknown.
        self.heads_looked_up = heads_looked_up

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *exc) -> None:
        self.rollback()  # whatever was not committed
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    # --- effects --------------------------------------------------------------------------
    def tell(self, userids, template: str, *, automatic: bool = False,
             dedup_key: str | None = None, hold=None, **context) -> None:
        """Queue a message to `userids`: the text of templates/messages/<template>.txt.j2;
        with `hold` (a timedelta) it waits that long unless `release`d earlier."""
        self.notifier.tell(self.session, list(userids), template, now=self.clock.now(),
                           automatic=automatic, dedup_key=dedup_key, hold=hold, **context)
        self.enqueued += 1

    def release(self, dedup_key: str, userids, template: str, *, again: bool = True,
                **context) -> None:
        """Send a message held by `tell(…, hold=…)` now, its text rendered again with
        `context` (what it was waiting for). If its hold ended and it went out already, the
        new text follows only when `again` (it adds something)."""
        self.notifier.release(self.session, dedup_key, list(userids), template,
                              now=self.clock.now(), again=again, **context)
        self.enqueued += 1

    def send_card(self, filing, stage, recipients: list[str]):
        """Queue the decision card of `stage` for `recipients`."""
        card = self.notifier.send_card(self.session, filing, stage, recipients,
                                       now=self.clock.now(), settings=self.settings)
        self.enqueued += 1
        return card

    def send_cards(self, cards: list) -> None:
        """Queue the decision cards of many (filing, stage, recipients) at once: what
        send_card queues for each, written in bulk (the daily run's nudges)."""
        self.enqueued += self.notifier.send_cards(self.session, cards, now=self.clock.now(),
                                                  settings=self.settings)

    def card_is_live(self, card) -> bool:
        """Whether `card` (None: no card) can still be tapped: delivered, or on its way, and
        not expired."""
        return self.notifier.card_is_live(self.session, card, now=self.clock.now())

    def live_cards(self, cards) -> set[int]:
        """The ids of `cards` that can still be tapped (card_is_live, one query for all)."""
        return self.notifier.live_cards(self.session, list(cards), now=self.clock.now())

    def close_cards(self, filing, stage_name: str, closed_text: str, *, tapped=None,
                    click_code=None) -> None:
        """Grey out the stage's cards (the tapped one with the tap's fresh response code)."""
        self.notifier.close_cards(self.session, filing, stage_name, closed_text,
                                  now=self.clock.now(), tapped=tapped, click_code=click_code)
        self.enqueued += 1
