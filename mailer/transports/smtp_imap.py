"""The SMTP + IMAP transport: send with SMTP, read replies with IMAP, for any standard mail server.

Sending keeps one SMTP connection open across ``send`` calls (a new connection per message
costs about a third of the throughput, notes/performance.md) and talks to the server one
command at a time, so that every failure is known by its phase:

- before the final "." of DATA (connect, MAIL, RCPT, DATA's 354): nothing was handed over;
  4xx or a broken connection is ``TemporarySendError``, 5xx is ``PermanentSendError``;
- after the final ".": a 250 is success, 4xx/5xx as above, but a disconnect or timeout while
  waiting for that reply is ``UncertainSendError``: the server may have the message (RFC 1047,
  notes/email-safety.md "Exactly once is not on offer").

Reading (imap_box.py holds the connection) is by UID with ``BODY.PEEK[]`` (``RFC822`` would mark the message read). The id given
to the inbox is ``imap:<folder>:<UIDVALIDITY>:<UID>``: when the server renumbers a folder
(new UIDVALIDITY), every id changes, and the inbox's dedupe by Message-ID catches the repeats.
"""
from __future__ import annotations

import logging
import re
import smtplib
from dataclasses import dataclass, replace
from typing import Any, Iterator

from imapclient import IMAPClient

from mailer.errors import (AddressError, PermanentSendError, TemporarySendError, TooLargeError, TransportError,
                           UncertainSendError)
from mailer.outbound.addresses import wire_address
from mailer.transports.base import CheckLine, Fetched, Outgoing
from mailer.transports.imap_box import (_IMAP_ERRORS, _Imap, _tls_context, make_transport_id, move_message,
                                        parse_transport_id)
from mailer.transports.oauth import smtp_xoauth2

log = logging.getLogger(__name__)

FETCH_BATCH = 50


@dataclass(frozen=True)
class SmtpImapSettings:
    """Where and how to send and read mail. Security is "none", "starttls" or "tls"."""

    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    smtp_password: str
    imap_host: str
    imap_port: int
    imap_security: str
    imap_user: str
    imap_password: str
    inbox_folder: str = "INBOX"
    processed_folder: str = "Processed"
    sent_folder: str | None = None
    timeout: float = 30.0
    ca_file: str | None = None  # extra CA certificates to trust (a self-signed server, tests)
    verp: bool = True  # MAIL FROM the per-email bounce address (Outgoing.bounce_to)
    # auth = "xoauth2": where the SMTP / IMAP login's OAuth tokens come from (oauth.TokenSource);
    # None: log in with user and password.
    smtp_tokens: Any = None
    imap_tokens: Any = None


def _error_for(code: int, what: str, reply: bytes | str) -> TransportError:
    """The error a reply code means: 4xx (and anything odd) temporary, 5xx permanent; a message
    too big (552 to MAIL or after DATA, or enhanced code 5.3.4, RFC 1870 and RFC 3463) says so."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{what}: {code} {text}".strip()
    if "5.3.4" in text or (code == 552 and not what.startswith("RCPT")):
        return TooLargeError(message)
    if 500 <= code <= 599:
        return PermanentSendError(message)
    return TemporarySendError(message)


def dot_stuff(data: bytes) -> bytes:
    """The DATA payload: leading dots doubled, a final CRLF, then the "." terminator.

    A line starting with "." inside DATA must get a second "." (RFC 5321 4.5.2, transparency).
    A line starts after LF (the bytes are CRLF; a lone LF ends a line for servers too), so
    ``bytes.replace`` does it: a regular expression over a 16 KB email took ~100x longer,
    under the interpreter lock the composing thread needs (outbox_thread)."""
    body = data.replace(b"\n.", b"\n..")
    if body.startswith(b"."):
        body = b"." + body
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def _ascii_addresses(mail: Outgoing) -> Outgoing:
    """``mail`` with every envelope address in its IDNA form (``user@xn--bcher-kva.example``).

    smtplib sends commands as ASCII; an address with a non-ASCII local part would need SMTPUTF8,
    which we do not rely on (outbound.addresses), so it can never be sent.
    """
    try:
        sender, recipients = wire_address(mail.sender), tuple(map(wire_address, mail.recipients))
        bounce_to = wire_address(mail.bounce_to) if mail.bounce_to else None
        if (sender, recipients, bounce_to) != (mail.sender, mail.recipients, mail.bounce_to):
            mail = replace(mail, sender=sender, recipients=recipients, bounce_to=bounce_to)
    except AddressError as exc:
        raise PermanentSendError(str(exc)) from exc
    for address in (mail.sender, *mail.recipients):
        if not address.isascii():
            raise PermanentSendError(f"address {address!r} is not ASCII (SMTPUTF8 is not used)")
    return mail


# A Mailbox whose local part is a dot-atom (RFC 5321 4.1.2) and whose domain is plain labels:
# its path is the address in angle brackets. smtplib's ``mail`` and ``rcpt`` find that out with
# ``quoteaddr``, which parses every address character by character in Python: half the CPU of
# the thread that sends a day's mail (bench/README.md, branch send).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def smtp_path(address: str) -> str:
    """The path MAIL FROM and RCPT TO give for ``address``: what ``smtplib.quoteaddr`` gives."""
    if _DOT_ATOM_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


class _Smtp:
    """One reusable SMTP session and the phase-by-phase send."""

    def __init__(self, settings: SmtpImapSettings) -> None:
        self.settings = settings
        self.conn: smtplib.SMTP | None = None

    def connect(self) -> smtplib.SMTP:
        """Open, secure and log in; connection trouble is temporary."""
        s = self.settings
        try:
            return self._open(s)
        except smtplib.SMTPResponseException as exc:
            # A refused greeting or login is about the server or our account, not about this
            # message: temporary, so queued mail is not declared dead for a wrong password.
            raise TemporarySendError(f"SMTP {s.smtp_host}:{s.smtp_port} refused us: "
                                     f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporarySendError(f"cannot connect to SMTP {s.smtp_host}:{s.smtp_port}: {exc}") from exc

    @staticmethod
    def _open(s: SmtpImapSettings) -> smtplib.SMTP:
        context = _tls_context(s.smtp_security, s.ca_file)
        if s.smtp_security == "tls":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.timeout, context=context)
        else:
            conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout)
        try:
            conn.ehlo()
            if s.smtp_security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if s.smtp_tokens is not None:
                smtp_xoauth2(conn, s.smtp_user, s.smtp_tokens, f"{s.smtp_host}:{s.smtp_port}")
            elif s.smtp_user:
                conn.login(s.smtp_user, s.smtp_password)
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, mail: Outgoing) -> None:
        """Send once, reconnecting first if the reused connection turns out to be closed."""
        mail = _ascii_addresses(mail)
        for _ in range(2):
            fresh = self.conn is None
            if self.conn is None:
                self.conn = self.connect()
            try:
                self._envelope(self.conn, mail)
                break
            except _StaleConnection:
                # Idle connections get closed by servers; nothing was handed over, so redo.
                self.drop()
                if fresh:
                    raise TemporarySendError("SMTP server closed a new connection before DATA") from None
        self._data(mail)

    def _envelope(self, conn: smtplib.SMTP, mail: Outgoing) -> None:
        """MAIL FROM and RCPT TO; any refusal resets the transaction and raises."""
        options = [f"SIZE={len(mail.data)}"] if conn.has_extn("size") else []
        sender = mail.bounce_to if self.settings.verp and mail.bounce_to else mail.sender
        try:
            conn.putcmd("mail", f"FROM:{smtp_path(sender)}{''.join(' ' + o for o in options)}")
            code, reply = conn.getreply()
            if code == 421 or code == -1:
                raise _StaleConnection  # an idle connection the server timed out (421) or garbled
            self._refused_unless_250(code, reply, f"MAIL FROM {sender}")
            for rcpt in mail.recipients:
                conn.putcmd("rcpt", f"TO:{smtp_path(rcpt)}")
                code, reply = conn.getreply()
                self._refused_unless_250(code, reply, f"RCPT TO {rcpt}", accepted=(250, 251))
        except smtplib.SMTPServerDisconnected as exc:
            raise _StaleConnection from exc

    def _refused_unless_250(self, code: int, reply: bytes, what: str, accepted=(250,)) -> None:
        """Raise the reply's error (after RSET, so the session can be reused) unless accepted."""
        if code in accepted:
            return
        self._reset()
        raise _error_for(code, what, reply)

    def _data(self, mail: Outgoing) -> None:
        """DATA, the payload and the final reply: the one place where an error is uncertain."""
        conn = self.conn
        assert conn is not None
        try:
            conn.putcmd("data")
            code, reply = conn.getreply()
            self._refused_unless_250(code, reply, "DATA", accepted=(354,))
            # If sending fails part-way the "." terminator never left us: nothing was accepted.
            conn.send(dot_stuff(mail.data))
        except smtplib.SMTPServerDisconnected as exc:
            self.drop()
            raise TemporarySendError(f"SMTP connection lost before the message was complete: {exc}") from exc
        self._final_reply(conn)

    def _final_reply(self, conn: smtplib.SMTP) -> None:
        try:
            code, reply = conn.getreply()
        except smtplib.SMTPServerDisconnected as exc:
            self.drop()
            raise UncertainSendError(f"no reply after the message was handed over: {exc}") from exc
        if code == 250:
            return
        if 400 <= code <= 599:
            raise _error_for(code, "end of DATA", reply)
        self.drop()
        raise UncertainSendError(f"unexpected reply after the message was handed over: {code} {reply!r}")

    def _reset(self) -> None:
        """RSET after a refusal; if even that fails, forget the connection."""
        try:
            if self.conn is not None and self.conn.rset()[0] == 250:
                return
        except (OSError, smtplib.SMTPException):
            pass
        self.drop()

    def drop(self) -> None:
        """Close the connection without ceremony."""
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None

    def quit(self) -> None:
        """Say QUIT politely, then close; never raises."""
        if self.conn is None:
            return
        try:
            self.conn.quit()
        except (OSError, smtplib.SMTPException):
            pass
        self.drop()


class _StaleConnection(Exception):
    """The reused SMTP connection was closed before MAIL FROM was accepted (safe to redo)."""


class SmtpImapTransport:
    """Sends over SMTP and reads, files and searches mail over IMAP."""

    kind = "smtp-imap"
    calendar = None  # no native meetings: meetups go out as iMIP mail
    sends_from_thread = True  # send and find_sent use no database: the outbox may flush in a thread (outbox_thread)

    def __init__(self, settings: SmtpImapSettings) -> None:
        """Nothing connects until the first send or fetch."""
        self.settings = settings
        self.keeps_sent = settings.sent_folder is not None
        self._smtp = _Smtp(settings)
        self._imap = _Imap(settings)

    def send(self, mail: Outgoing) -> None:
        """Send the bytes as given over the open SMTP session (opened on first use)."""
        self._smtp.send(mail)

    @property
    def max_message_bytes(self) -> int | None:
        """The size the server announces in EHLO's SIZE (RFC 1870; connecting first if need be);
        None when it announces none, or SIZE 0 (no fixed limit)."""
        if self._smtp.conn is None:
            self._smtp.conn = self._smtp.connect()
        size = str(self._smtp.conn.esmtp_features.get("size", "")).strip()
        return int(size) if size.isdigit() and int(size) > 0 else None

    def fetch(self) -> Iterator[Fetched]:
        """Yield the inbox folder's messages by ascending UID, read with BODY.PEEK[]."""
        folder = self.settings.inbox_folder
        try:
            uidvalidity, uids = self._imap.retrying(lambda client: self._list(client, folder))
            for start in range(0, len(uids), FETCH_BATCH):
                yield from self._fetch_batch(folder, uidvalidity, uids[start:start + FETCH_BATCH])
        except _IMAP_ERRORS as exc:
            self._imap.drop()
            raise TransportError(f"IMAP fetch from {folder} failed: {exc}") from exc

    def _list(self, client: IMAPClient, folder: str) -> tuple[int, list[int]]:
        # NOOP first: with the folder already selected, it is what makes the server show mail
        # that arrived (or was moved back) since our last look (RFC 3501 §6.1.2).
        client.noop()
        uidvalidity = self._imap.select(folder)
        return uidvalidity, sorted(client.search(["UNDELETED"]))

    def _fetch_batch(self, folder: str, uidvalidity: int, uids: list[int]) -> Iterator[Fetched]:
        # ``done`` runs between our yields and may have reconnected or selected another folder.
        def read(client: IMAPClient) -> dict | None:
            if self._imap.select(folder) != uidvalidity:
                return None  # renumbered meanwhile: the next fetch sees the new ids
            return client.fetch(uids, ["BODY.PEEK[]"])

        bodies = self._imap.retrying(read)
        for uid in uids:
            if bodies is not None and uid in bodies:  # absent: moved or expunged by another client meanwhile
                yield Fetched(make_transport_id(folder, uidvalidity, uid), bodies[uid][b"BODY[]"])

    def done(self, fetched: Fetched) -> None:
        """Move the message to the processed folder (created if missing); retried once on a drop
        (redoing is safe: a UID that was already moved is simply not found again)."""
        try:
            self._imap.retrying(lambda client: self._done(fetched))
        except _IMAP_ERRORS as exc:
            self._imap.drop()
            raise TransportError(f"IMAP could not file away {fetched.transport_id}: {exc}") from exc

    def _done(self, fetched: Fetched) -> None:
        folder, uidvalidity, uid = parse_transport_id(fetched.transport_id)
        if self._imap.select(folder) != uidvalidity:
            # The folder was renumbered: this UID now names another message, or none.
            log.warning("not moving %s: %s has a new UIDVALIDITY", fetched.transport_id, folder)
            return
        self._imap.ensure_folder(self.settings.processed_folder)
        move_message(self._imap.ensure(), uid, self.settings.processed_folder)

    def commit(self, position: str) -> None:
        """Nothing to save: the inbox folder itself is the reading position (every UNDELETED
        message in it is read again until ``done`` moves it away); no UID is remembered."""

    def find_sent(self, message_id: str) -> bool | None:
        """Search the Sent folder by Message-ID; None when no Sent folder is configured or it is missing."""
        folder = self.settings.sent_folder
        if folder is None:
            return None
        def search(client: IMAPClient) -> bool | None:
            if not client.folder_exists(folder):
                log.warning("sent folder %r does not exist on the IMAP server", folder)
                return None
            self._imap.select(folder, readonly=True)
            return bool(client.search(["HEADER", "Message-ID", message_id]))

        try:
            return self._imap.retrying(search)
        except _IMAP_ERRORS as exc:
            self._imap.drop()
            raise TransportError(f"IMAP search of {folder} failed: {exc}") from exc

    def check(self) -> list[CheckLine]:
        """Log in to SMTP and IMAP, look at the inbox and Sent folders; no MAIL command is ever given."""
        from mailer.transports.smtp_imap_check import check_smtp_imap

        return check_smtp_imap(self.settings, self._smtp, self._imap)

    def close(self) -> None:
        """QUIT SMTP and LOGOUT IMAP; safe to call twice."""
        self._smtp.quit()
        self._imap.logout()
