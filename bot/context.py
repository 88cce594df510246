"""What a handler gets: the session of this callback's transaction, the sender, the clock, and
the only two ways to cause effects: a passive reply and outbox messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot.clock import Clock
from bot.config import Settings
from bot.notify import NOTIFIER
from bot.render import render_text
from workflow.uow import Actor, UnitOfWork


@dataclass(frozen=True)
class Sender:
    """Who sent the message, as the directory cache knows them (not an ORM object: cheap)."""

    userid: str
    name: str
    looked_up: bool
    synced_at: datetime
    has_conversation: bool = False
    has_question: bool = False  # the bot asked them something (a reason, a new account's ID)


@dataclass
class Ctx:
    connection: object  # the callback's Connection; its write transaction begins when needed
    settings: Settings
    clock: Clock
    user: Sender
    message: object  # a wechatpy message or event
    reply_text: str | None = None
    reply_button: str | None = None  # grey text for the tapped card button (update_button)
    notes: list[str] = field(default_factory=list)  # put before whatever the reply is
    postscripts: list[str] = field(default_factory=list)  # put after it (e.g. a follow-up question)
    # Departments whose heads WeCom was asked for while handling this message (routing raises
    # workflow.routing.HeadsUnknown for any other department with no known head).
    heads_looked_up: frozenset = frozenset()
    _session: Session | None = field(default=None, repr=False)
    _uow: UnitOfWork | None = field(default=None, repr=False)

    @property
    def session(self) -> Session:
        """An ORM session in the callback's transaction, made on first use: most messages
        (帮助, the menu) never need one, and making one costs more than answering them."""
        if self._session is None:
            if not self.connection.in_transaction():
                self.connection.begin()  # the write transaction starts when first needed
            # Joins the callback's transaction: its commit is the callback's, not the session's.
            self._session = Session(bind=self.connection, expire_on_commit=False,
                                    join_transaction_mode="rollback_only")
        return self._session

    @property
    def uow(self) -> UnitOfWork:
        """The workflow's unit of work on the callback's transaction, acting as the sender."""
        if self._uow is None:
            self._uow = UnitOfWork(self.session, settings=self.settings, clock=self.clock,
                                   notifier=NOTIFIER, actor=Actor(self.user.userid, self.user.name),
                                   heads_looked_up=self.heads_looked_up)
        return self._uow

    @property
    def enqueued(self) -> int:
        """Messages queued by this callback (the dispatcher is woken after the commit)."""
        return self._uow.enqueued if self._uow is not None else 0

    def flush(self) -> None:
        """Write what the handler's session holds into the callback's transaction."""
        if self._session is not None:
            self._session.flush()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
            self._uow = None

    @property
    def userid(self) -> str:
        return self.user.userid

    @property
    def text(self) -> str:
        """The text of a text message, stripped; '' for events."""
        return (getattr(self.message, "content", "") or "").strip()

    def reply(self, template: str, **context) -> None:
        """Answer the sender with the text of templates/messages/<template>.txt.j2."""
        rendered = render_text(template, user=self.user, **context)
        self.reply_text = "\n\n".join([*self.notes, rendered, *self.postscripts])

    def note(self, template: str, **context) -> None:
        """Prefix the reply with a note (e.g. "your last form expired")."""
        self.notes.append(render_text(template, **context))

    def send(self, userids: list[str], template: str, *, automatic: bool = False,
             dedup_key: str | None = None, **context) -> None:
        """Queue a text message to `userids` (delivered by the outbox dispatcher)."""
        self.uow.tell(userids, template, automatic=automatic, dedup_key=dedup_key, **context)
