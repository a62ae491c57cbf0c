"""The transport Protocol: how cop-mailer hands mail to a server and reads replies back.

Transports are small classes picked by name from ``TRANSPORTS`` (see ``registry.py``); the
outbox and inbox never know which one they talk to.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Iterator, Protocol

from mailer.faults import kill_point


@dataclass(frozen=True)
class Outgoing:
    """One message ready for the wire: bytes are final (CRLF line endings, headers set)."""

    message_id: str
    sender: str
    recipients: tuple[str, ...]
    data: bytes
    # The VERP envelope sender (local+b-ID@domain) where the transport can set one, so a bounce
    # names the email it returns; transports that cannot (Graph, EWS) send as ``sender``.
    bounce_to: str | None = None


@dataclass(frozen=True)
class Fetched:
    """One message read from the server, before anything has parsed it.

    ``transport_id`` is the server's own name for it (Maildir file name, IMAP
    ``UIDVALIDITY:UID``, EWS item id), remembered so a re-poll is recognised.
    ``position`` is the sync position (a Graph delta link, an EWS sync state) that reading
    reaches with this message: it may be saved only once this message and every one before it
    are kept raw in the inbox table (``settle``). None: the position does not move with it.
    """

    transport_id: str
    raw: bytes
    position: str | None = None


@dataclass(frozen=True)
class CheckLine:
    """One line of ``run.py check``: what was tried, whether it works, and in plain words why."""

    what: str  # "log in", "read the inbox", "send", "calendar", "Sent folder"
    ok: bool
    detail: str


class Transport(Protocol):
    """What every transport offers. Errors are ``mailer.errors.TransportError`` children."""

    kind: str
    keeps_sent: bool
    # The largest message (raw bytes) the server takes, as documented or announced; None when
    # it sets none. The outbox never sends one over it (mailer/outbound/shrink.py).
    max_message_bytes: int | None

    def send(self, mail: Outgoing) -> None:
        """Deliver one message, reusing an open connection; raise Temporary/Permanent/UncertainSendError."""

    def fetch(self) -> Iterable[Fetched]:
        """Yield messages waiting in the inbox, oldest first, without marking them read or
        saving any sync position past them (the position rides on ``Fetched.position``)."""

    def done(self, fetched: Fetched) -> None:
        """File a message away once its effect is recorded (move to the processed folder)."""

    def commit(self, position: str) -> None:
        """Save a sync position from ``Fetched.position``: every message before it is kept."""

    def find_sent(self, message_id: str) -> bool | None:
        """True/False if the Sent folder has this Message-ID; None when the transport cannot tell."""

    def check(self) -> list[CheckLine]:
        """Connect and say what works (log in, read, send, Sent folder), sending nothing to anyone."""

    def close(self) -> None:
        """Close any open connection; safe to call twice."""


def read(transport: Transport) -> Iterator[Fetched]:
    """The transport's new messages, as ``fetch`` yields them (with a test kill point on each)."""
    for fetched in transport.fetch():
        kill_point("fetched")
        yield fetched
    kill_point("read")  # all read, none of the last batch kept yet


def settle(transport: Transport, batch: list[Fetched]) -> None:
    """After the inbox committed ``batch`` (each message kept raw, with its effect): file each
    away on the server, then move the sync position past the batch.

    A crash before the position is saved reads the batch again; the inbox knows every message
    of it by transport id or Message-ID and only files it away.
    """
    kill_point("stored")
    for fetched in batch:
        transport.done(fetched)
        kill_point("filed")
    position = next((f.position for f in reversed(batch) if f.position is not None), None)
    if position is not None:
        transport.commit(position)
        kill_point("committed")


# -- native meetings ---------------------------------------------------------------------------
# With ``native_meetings = true`` an Exchange or Graph transport offers ``calendar``: a meetup
# becomes a real calendar item that the server itself sends to its attendees. Transports
# without one have ``calendar = None`` and meetups go out as iMIP email through any transport.

@dataclass(frozen=True)
class Meeting:
    """What a calendar item says; times are timezone-aware."""

    subject: str
    start: datetime
    end: datetime
    attendees: tuple[str, ...]
    location: str = ""
    body_html: str = ""
    uid: str = ""  # our calendar UID; EWS can give the item this UID, Graph makes its own


@dataclass(frozen=True)
class NativeEvent:
    """A calendar item the server made: its id there, and the iCalendar UID attendees' replies carry."""

    id: str
    uid: str


@dataclass(frozen=True)
class Response:
    """One attendee's answer as the server keeps it."""

    partstat: str  # needs-action, accepted, declined, tentative (as in store.meetups.PARTSTATS)
    at: datetime | None = None  # when they answered, where the server says


class NativeCalendar(Protocol):
    """Calendar items in the service mailbox's own calendar; the server mails the attendees."""

    max_attendees: int | None  # the most one item takes (Graph: 500); None when the server sets none

    def create(self, meeting: Meeting, key: str) -> NativeEvent:
        """Create the item and invite its attendees. ``key`` (e.g. ``meetup:5``) makes a retried
        create whose first answer was lost find the first item instead of making a second."""

    def update(self, event_id: str, meeting: Meeting) -> None:
        """Change time, place, text or attendees; the server sends the update."""

    def cancel(self, event_id: str, comment: str) -> None:
        """Cancel the item; the server sends the cancellation to every attendee. An item already
        gone (a retried cancel, or deleted by hand) counts as cancelled."""

    def responses(self, event_id: str) -> dict[str, Response]:
        """Each attendee's answer by lower-case address."""
