"""Sending and reading apart: one transport sends, another reads the replies (docs/relay.md).

Exchange Online High Volume Email (HVE) and SMTP relays (a company's Postfix, Amazon SES,
Google's SMTP relay service) take mail in but hold no mailbox to read: replies are read from
the service mailbox over Graph, EWS or IMAP. ``[transport] send`` and ``read`` name the two
halves; ``problems`` refuses the combinations that cannot work, each with its reason.

Settling an uncertain send needs the copy of what was sent. A relay and HVE keep none (HVE:
"Saves to Sent Items folder: No", learn.microsoft.com/exchange/mail-flow-best-practices/
high-volume-mails-m365), so with ``sent_copy = "none"`` ``find_sent`` says it cannot tell and
the outbox resends the same bytes (at-least-once, the same Message-ID). With ``sent_copy =
"reader"`` (SMTP client submission to the very mailbox that is read keeps one in Sent Items)
the reader's Sent folder is searched.
"""
from __future__ import annotations

from typing import Iterable

from mailer.transports.base import CheckLine, Fetched, Outgoing, Transport

SENDERS = ("smtp", "graph", "exchange", "maildir")
READERS = ("imap", "graph", "exchange", "maildir")
# What each ``[transport] kind`` sends and reads with.
HALVES = {"maildir": ("maildir", "maildir"), "smtp-imap": ("smtp", "imap"),
          "exchange": ("exchange", "exchange"), "graph": ("graph", "graph")}
_EXCHANGE = ("graph", "exchange")

# (send, read) -> why it cannot work; every pair of known names not here works.
REFUSED = {
    **{("maildir", r): f"send = \"maildir\" writes each email into mail/outbox and sends nothing, so no one "
       f"would get the emails whose replies read = \"{r}\" waits for; send with smtp, graph or exchange"
       for r in ("imap", "graph", "exchange")},
    **{(s, "maildir"): f"replies to the Exchange mailbox that send = \"{s}\" sends from arrive in that "
       f"mailbox, never in a local Maildir; read = \"{s}\"" for s in _EXCHANGE},
    **{(s, "imap"): f"send = \"{s}\" sends as the Exchange mailbox it can also read: read = \"{s}\" "
       "(reading the same mailbox over IMAP adds a second sign-in and nothing else)" for s in _EXCHANGE},
    ("graph", "exchange"): "both halves speak to the same Exchange mailbox: kind = \"graph\" does both "
                           "(EWS leaves Exchange Online on 1 April 2027)",
    ("exchange", "graph"): "both halves speak to the same Exchange mailbox: kind = \"graph\" (Exchange "
                           "Online) or kind = \"exchange\" (Exchange Server) does both",
}


def halves(settings: object) -> tuple[str, str]:
    """(send, read) as configured: ``send``/``read`` when set, else what ``kind`` does."""
    send, read = getattr(settings, "transport_send", ""), getattr(settings, "transport_read", "")
    if not send and not read:
        return HALVES.get(settings.transport_kind, (settings.transport_kind, settings.transport_kind))
    return send, read


def is_split(settings: object) -> bool:
    """Whether ``[transport] send``/``read`` pick the halves (not ``kind``)."""
    return bool(getattr(settings, "transport_send", "") or getattr(settings, "transport_read", ""))


def problems(settings: object) -> list[str]:
    """Why the configured send/read pair cannot work, in words naming the keys; [] when it can."""
    if not is_split(settings):
        return ["transport.sent_copy is only used with transport.send and transport.read; remove it"] \
            if settings.transport_sent_copy != "none" else []
    send, read = settings.transport_send, settings.transport_read
    if not send or not read:
        missing = "read" if send else "send"
        return [f"transport.{'send' if send else 'read'} is set but transport.{missing} is not: say both "
                f"(send: {', '.join(SENDERS)}; read: {', '.join(READERS)})"]
    found = [f"transport.send = {send!r}; expected one of {', '.join(SENDERS)} (any SMTP relay, Amazon SES "
             "or High Volume Email included, is \"smtp\")"] if send not in SENDERS else []
    found += [f"transport.read = {read!r}; expected one of {', '.join(READERS)}"] if read not in READERS else []
    if found:
        return found
    if (send, read) in REFUSED:
        return [f"transport.send = {send!r} with read = {read!r} cannot work: {REFUSED[send, read]}"]
    return _native_meetings(settings, send, read) + _sent_copy(settings, send, read)


def _native_meetings(settings: object, send: str, read: str) -> list[str]:
    """Native meetings are sent by Exchange from the mailbox: only when that mailbox also sends."""
    if send == read:
        return []
    return [f"{kind}.native_meetings = true needs the Exchange mailbox to send as well as read; with send = "
            f"{send!r} meetups go out as iCalendar invitations by email: set it to false"
            for kind in _EXCHANGE if getattr(settings, f"{kind}_native_meetings", False)]


def _sent_copy(settings: object, send: str, read: str) -> list[str]:
    if settings.transport_sent_copy != "reader" or send == read:
        return []
    if read == "maildir":
        return ["transport.sent_copy = \"reader\" with read = \"maildir\": a local Maildir holds no copy of "
                "what was sent elsewhere; sent_copy = \"none\""]
    if read == "imap" and not settings.imap_sent_folder:
        return ["transport.sent_copy = \"reader\" with read = \"imap\" needs imap.sent_folder (the folder "
                "the SMTP server saves its copy in)"]
    return []


class SplitTransport:
    """Sends with ``sender``; reads, files away and (with a copy kept there) finds sent mail with ``reader``."""

    calendar = None  # native meetings need one mailbox to send and read: refused by ``problems``

    def __init__(self, sender: Transport, reader: Transport, sent_copy: bool, names: tuple[str, str]) -> None:
        """``sent_copy``: the reader's Sent folder holds what the sender sent (``sent_copy = "reader"``)."""
        self.sender, self.reader, self.sent_copy = sender, reader, sent_copy
        self.kind = f"{names[0]}+{names[1]}"
        self.keeps_sent = sent_copy and reader.keeps_sent
        self.parallel = getattr(sender, "parallel", 1)
        # a thread may flush (outbox_thread) when neither half that flushing uses needs the database
        self.sends_from_thread = getattr(sender, "sends_from_thread", False) and (
            not sent_copy or getattr(reader, "sends_from_thread", False))
        if hasattr(reader, "remove_processed"):  # a Maildir reader keeps processed copies (retention)
            self.remove_processed = reader.remove_processed

    @property
    def max_message_bytes(self) -> int | None:
        """The sender's limit: it is the one that takes the message."""
        return self.sender.max_message_bytes

    def send(self, mail: Outgoing) -> None:
        """Hand the message to the sending half."""
        self.sender.send(mail)

    def fetch(self) -> Iterable[Fetched]:
        """The reading half's new messages."""
        return self.reader.fetch()

    def done(self, fetched: Fetched) -> None:
        """File a message away in the mailbox it was read from."""
        self.reader.done(fetched)

    def commit(self, position: str) -> None:
        """Save the reading half's sync position."""
        self.reader.commit(position)

    def find_sent(self, message_id: str) -> bool | None:
        """Search the reader's Sent folder when it keeps the sender's copy; None (cannot tell:
        the outbox resends the same bytes) when the sender is a relay that keeps none."""
        return self.reader.find_sent(message_id) if self.sent_copy else None

    def check(self) -> list[CheckLine]:
        """The reader's lines (log in, inbox, calendar), the sender's "send" line, and what
        happens to an uncertain send; sends nothing."""
        read = self.reader.check()
        lines = [line for line in read if line.what not in ("send", "Sent folder")]
        lines += [line for line in sender_check(self.sender) if line.what in ("send", "connections")]
        sent = [line for line in read if line.what == "Sent folder"]
        if not self.sent_copy:
            sent = [CheckLine("Sent folder", True, f"the sender ({self.kind.split('+')[0]}) keeps no copy of "
                              "what it sends (sent_copy = \"none\"): an email whose send was uncertain is sent "
                              "again, and its recipient may get it twice (the same Message-ID)")]
        return lines + (sent or [CheckLine("Sent folder", False, "the reader has no Sent folder to search")])

    def close(self) -> None:
        """Close both halves; safe to call twice."""
        try:
            self.sender.close()
        finally:
            self.reader.close()


def sender_check(sender: Transport) -> list[CheckLine]:
    """The sender's own check; for SMTP only the SMTP log-in (its IMAP half is not used here)."""
    from mailer.transports.smtp_imap import SmtpImapTransport
    from mailer.transports.smtp_imap_check import _check_smtp

    if isinstance(sender, SmtpImapTransport):
        return [_check_smtp(sender.settings, sender._smtp)]
    return sender.check()
