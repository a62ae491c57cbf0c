"""What every flow shares: the email it plans, and the reply it is handed.

A flow module offers two things, both functions of the store's state and ``now``:
``due(db, now, settings) -> list[PlannedEmail]`` (what should have gone out by now and has not)
and ``handle_reply(db, reply, now, settings) -> list[PlannedEmail]`` (how a routed reply
changes its state, plus any answer to send). Flows never send anything themselves: the worker
hands their plans to the outbox, which is idempotent on ``PlannedEmail.key``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from mailer.inbound.message import ParsedMessage
from mailer.store import people


@dataclass(frozen=True)
class Attachment:
    """A file attached to an outgoing email."""

    filename: str
    mime_type: str  # e.g. "text/markdown"
    data: bytes
    content_id: str | None = None  # set: shown inside the HTML part as <img src="cid:…">, not attached
    # A document said in the recipient's language (a ``locale.text.Localized``: the summary's
    # journal); ``data`` is its English, and the outbox sends it in the recipient's language.
    said: Any = None

    def in_language(self, language: str) -> "Attachment":
        """This attachment as sent to a reader of ``language``."""
        if self.said is None:
            return self
        from mailer.locale.text import localize
        return Attachment(self.filename, self.mime_type, localize(self.said, language).encode("utf-8"),
                          self.content_id)


# The outbox sends lower numbers first (each within its pace): an answer to someone who just
# wrote, then an email tied to its hour, then everything else. ``mailer.outbox.priority``.
ANSWER, TIMELY, BULK = 0, 1, 2


@dataclass(frozen=True)
class PlannedEmail:
    """One logical email a flow wants sent; the outbox turns it into bytes exactly once.

    ``key`` is the idempotency key (``challenge:7:day:5:person:42``): enqueueing the same key
    twice is a no-op, so a flow may plan the same email on every tick until it exists.
    ``reply_purpose`` (journal, approval, volunteer, meetup, …) asks for a reply token bound to
    the recipient; ``reply_ref`` names the record the reply is about (``challenge:7:day:5``).
    """

    key: str
    to: str
    subject: str
    template: str  # "challenge/day" -> templates/challenge/day.{txt,html}.j2
    context: dict[str, Any]
    reply_purpose: str | None = None
    reply_ref: str | None = None
    recurring: bool = False  # adds List-Unsubscribe headers
    auto_reply: bool = False  # an answer to a person ("couldn't read that"): Auto-Submitted: auto-replied
    in_reply_to: str | None = None
    attachments: tuple[Attachment, ...] = ()
    not_before: datetime | None = None
    headers: tuple[tuple[str, str], ...] = ()  # extra headers, e.g. ("X-Cop-Challenge", "7")
    priority: int | None = None  # ANSWER, TIMELY or BULK; None: decided by ``mailer.outbox.priority``


@dataclass(frozen=True)
class RoutedReply:
    """An incoming human reply that routing tied to a person and to what it answers."""

    person_id: int
    person_email: str
    purpose: str  # the token's purpose: journal, approval, volunteer, meetup, …
    ref: str  # the token's record, e.g. "challenge:7:day:5"
    message: ParsedMessage
    reply_text: str  # only the new text (inbound.reply)
    intent: str  # inbound.commands vocabulary for the purpose's context
    comment: str = ""
    role: str | None = None
    rsvp: dict[str, Any] | None = None
    received_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The person's row as routing read it, in this same transaction (None: not given).
    person: dict[str, Any] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class DigestItem:
    """What one flow record (a challenge, a charter, a call, a meetup) says in a sponsor digest.

    Each flow package offers ``digest_items(db, email, since, until) -> list[DigestItem]``:
    the records ``email`` sponsors (``email=None``: everything, for a community lead), with
    what changed in ``[since, until)``. Only data a sponsor may see goes in: counts, statuses,
    and highlights their authors marked shareable; never a private journal entry or update.
    """

    kind: str  # "challenge", "charter", "call", "meetup"
    ref: str  # "charter:3"
    title: str
    status: str  # one line: "day 12 of 30", "approved", "2 of 3 places filled"
    changed: tuple[str, ...] = ()  # what happened in the period, plain sentences
    facts: tuple[str, ...] = ()  # numbers with their context ("9 of 12 participants journaled at least 5 days")
    highlights: tuple[tuple[str, str], ...] = ()  # (author's name, shareable text)
    chart: tuple[tuple[str, int, int], ...] = ()  # bars: (label, value, out of), e.g. per day journaled
    photos: tuple[tuple[str, bytes], ...] = ()  # (author's name, JPEG thumbnail) from shareable entries only


def person_of(db: Database, reply: RoutedReply) -> dict:
    """The replying person's row: the one routing read for this reply (nothing writes between
    routing and the handler), else read from the store."""
    if reply.person is not None and reply.person["id"] == reply.person_id:
        return reply.person
    return people.get_person(db, reply.person_id)
