"""The SMTP + IMAP transport: send with SMTP, read replies with IMAP, for any standard mail server.

Sending keeps one SMTP connection open across ``send`` calls (a new connection per message
costs about a third of the throughput, notes/performance.md) and talks to the server one
command at a time, so that every failure is known by its phase:

- before the final "." of DATA (connect, MAIL, RCPT, DATA's 354): nothing was handed over;
  4xx or a broken connection is ``TemporarySendError``, 5xx is ``PermanentSendError``;
- after the final ".": a 250 is success, 4xx/5xx as above, but a disconnect or timeout while
  waiting for that reply is ``UncertainSendError``: the server may have the message (RFC 1047,
  notes/email-safety.md "Exactly once is not on offer").

Reading is by UID with ``BODY.PEEK[]`` (``RFC822`` would mark the message read). The id given
to the inbox is ``imap:<folder>:<UIDVALIDITY>:<UID>``: when the server renumbers a folder
(new UIDVALIDITY), every id changes, and the inbox's dedupe by Message-ID catches the repeats.
"""
from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, replace
from typing import Callable, Iterator, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from mailer.errors import AddressError, PermanentSendError, TemporarySendError, TransportError, UncertainSendError
from mailer.outbound.addresses import wire_address
from mailer.transports.base import CheckLine, Fetched, Outgoing

log = logging.getLogger(__name__)

FETCH_BATCH = 50
# A line starting with "." inside DATA must get a second "." (RFC 5321 4.5.2, transparency).
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)
_IMAP_ERRORS = (IMAPClientError, OSError)
# What a connection the server closed under us raises (BYE, EOF, a broken pipe, a reset).
_DROPPED = (IMAPClientAbortError, OSError)
T = TypeVar("T")


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


def _error_for(code: int, what: str, reply: bytes | str) -> TransportError:
    """The error a reply code means: 4xx (and anything odd) temporary, 5xx permanent."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{what}: {code} {text}".strip()
    if 500 <= code <= 599:
        return PermanentSendError(message)
    return TemporarySendError(message)


def dot_stuff(data: bytes) -> bytes:
    """The DATA payload: leading dots doubled, a final CRLF, then the "." terminator."""
    body = _LEADING_DOT.sub(b"..", data)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def _tls_context(security: str, ca_file: str | None) -> ssl.SSLContext | None:
    """A certificate-checking TLS context, or None without TLS (building one costs ~30 ms)."""
    if security not in ("tls", "starttls"):
        return None
    return ssl.create_default_context(cafile=ca_file)


def _ascii_addresses(mail: Outgoing) -> Outgoing:
    """``mail`` with every envelope address in its IDNA form (``user@xn--bcher-kva.example``).

    smtplib sends commands as ASCII; an address with a non-ASCII local part would need SMTPUTF8,
    which we do not rely on (outbound.addresses), so it can never be sent.
    """
    try:
        mail = replace(mail, sender=wire_address(mail.sender), recipients=tuple(map(wire_address, mail.recipients)),
                       bounce_to=wire_address(mail.bounce_to) if mail.bounce_to else None)
    except AddressError as exc:
        raise PermanentSendError(str(exc)) from exc
    for address in (mail.sender, *mail.recipients):
        if not address.isascii():
            raise PermanentSendError(f"address {address!r} is not ASCII (SMTPUTF8 is not used)")
    return mail


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
            if s.smtp_user:
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
            code, reply = conn.mail(sender, options)
            if code == 421 or code == -1:
                raise _StaleConnection  # an idle connection the server timed out (421) or garbled
            self._refused_unless_250(code, reply, f"MAIL FROM {sender}")
            for rcpt in mail.recipients:
                code, reply = conn.rcpt(rcpt)
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


class _Imap:
    """One IMAP connection, reopened when the server dropped it, and the folder it has selected."""

    def __init__(self, settings: SmtpImapSettings) -> None:
        self.settings = settings
        self.client: IMAPClient | None = None
        self.selected: tuple[str, bool, int] | None = None  # folder, readonly, UIDVALIDITY
        self.created: set[str] = set()

    def connect(self) -> IMAPClient:
        """Open, secure and log in."""
        s = self.settings
        context = _tls_context(s.imap_security, s.ca_file)
        try:
            client = IMAPClient(s.imap_host, s.imap_port, ssl=s.imap_security == "tls",
                                ssl_context=context, timeout=s.timeout)
        except _IMAP_ERRORS as exc:
            raise TransportError(f"cannot connect to IMAP {s.imap_host}:{s.imap_port}: {exc}") from exc
        try:
            if s.imap_security == "starttls":
                client.starttls(context)
            client.login(s.imap_user, s.imap_password)
        except _IMAP_ERRORS as exc:
            client.shutdown()
            raise TransportError(f"cannot log in to IMAP {s.imap_host}:{s.imap_port}: {exc}") from exc
        self.client, self.selected, self.created = client, None, set()
        return client

    def ensure(self) -> IMAPClient:
        """The open connection, or a new one."""
        return self.client if self.client is not None else self.connect()

    def live(self) -> IMAPClient:
        """The open connection after a NOOP proved it alive (servers drop idle ones), else a new one."""
        if self.client is not None:
            try:
                self.client.noop()
                return self.client
            except _IMAP_ERRORS:
                self.drop()
        return self.connect()

    def retrying(self, operation: Callable[[IMAPClient], T]) -> T:
        """Run ``operation`` on the open connection and, when the server had dropped it (a
        restart, an idle timeout, a kick between two of our commands), once more on a fresh
        one. Only reads, searches and UID moves go through here: all are safe to redo."""
        try:
            return operation(self.ensure())
        except _DROPPED as exc:
            log.info("IMAP connection dropped (%s); reconnecting once", exc)
            self.drop()
        return operation(self.ensure())

    def select(self, folder: str, readonly: bool = False) -> int:
        """Select ``folder`` unless it already is; return its UIDVALIDITY."""
        client = self.ensure()
        if self.selected is None or self.selected[:2] != (folder, readonly):
            info = client.select_folder(folder, readonly=readonly)
            self.selected = (folder, readonly, int(info[b"UIDVALIDITY"]))
        return self.selected[2]

    def ensure_folder(self, folder: str) -> None:
        """Create ``folder`` once if the server does not have it."""
        client = self.ensure()
        if folder in self.created:
            return
        if not client.folder_exists(folder):
            client.create_folder(folder)
        self.created.add(folder)

    def drop(self) -> None:
        """Forget the connection (closing the socket, ignoring errors)."""
        if self.client is not None:
            try:
                self.client.shutdown()
            except _IMAP_ERRORS:
                pass
        self.client, self.selected = None, None

    def logout(self) -> None:
        """LOGOUT politely; never raises."""
        if self.client is not None:
            try:
                self.client.logout()
            except _IMAP_ERRORS:
                pass
        self.drop()


def make_transport_id(folder: str, uidvalidity: int, uid: int) -> str:
    """``imap:<folder>:<uidvalidity>:<uid>`` (the folder may itself contain colons)."""
    return f"imap:{folder}:{uidvalidity}:{uid}"


def parse_transport_id(transport_id: str) -> tuple[str, int, int]:
    """The folder, UIDVALIDITY and UID in an id made by ``make_transport_id``."""
    prefix, _, rest = transport_id.partition(":")
    folder, uidvalidity, uid = rest.rsplit(":", 2)
    if prefix != "imap":
        raise ValueError(f"not an IMAP transport id: {transport_id!r}")
    return folder, int(uidvalidity), int(uid)


def move_message(client: IMAPClient, uid: int, folder: str) -> None:
    """Move one message (UID) out of the selected folder: MOVE, else COPY + \\Deleted + EXPUNGE."""
    if client.has_capability("MOVE"):
        client.move([uid], folder)
        return
    client.copy([uid], folder)
    client.add_flags([uid], [b"\\Deleted"], silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge([uid])  # only this message, not others a person flagged \Deleted
    else:
        client.expunge()


class SmtpImapTransport:
    """Sends over SMTP and reads, files and searches mail over IMAP."""

    kind = "smtp-imap"
    calendar = None  # no native meetings: meetups go out as iMIP mail

    def __init__(self, settings: SmtpImapSettings) -> None:
        """Nothing connects until the first send or fetch."""
        self.settings = settings
        self.keeps_sent = settings.sent_folder is not None
        self._smtp = _Smtp(settings)
        self._imap = _Imap(settings)

    def send(self, mail: Outgoing) -> None:
        """Send the bytes as given over the open SMTP session (opened on first use)."""
        self._smtp.send(mail)

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
