"""The transport Protocol: how cop-mailer hands mail to a server and reads replies back.

Transports are small classes picked by name from ``TRANSPORTS`` (see ``registry.py``); the
outbox and inbox never know which one they talk to.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol


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
    """

    transport_id: str
    raw: bytes


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

    def send(self, mail: Outgoing) -> None:
        """Deliver one message, reusing an open connection; raise Temporary/Permanent/UncertainSendError."""

    def fetch(self) -> Iterable[Fetched]:
        """Yield messages waiting in the inbox, oldest first, without marking them read."""

    def done(self, fetched: Fetched) -> None:
        """File a message away once its effect is recorded (move to the processed folder)."""

    def find_sent(self, message_id: str) -> bool | None:
        """True/False if the Sent folder has this Message-ID; None when the transport cannot tell."""

    def check(self) -> list[CheckLine]:
        """Connect and say what works (log in, read, send, Sent folder), sending nothing to anyone."""

    def close(self) -> None:
        """Close any open connection; safe to call twice."""
