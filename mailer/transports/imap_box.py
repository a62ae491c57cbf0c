"""The IMAP side of the SMTP + IMAP transport: one connection, reopened when the server dropped
it, the ids given to the inbox (``imap:<folder>:<UIDVALIDITY>:<UID>``), and filing away.

The inbox folder itself is the reading position: every UNDELETED message in it is read again
until ``move_message`` takes it away, so there is no UID to remember and nothing to lose.
"""
from __future__ import annotations

import logging
import ssl
from typing import TYPE_CHECKING, Callable, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from mailer.errors import TransportError
from mailer.transports.oauth import imap_xoauth2

if TYPE_CHECKING:
    from mailer.transports.smtp_imap import SmtpImapSettings

log = logging.getLogger(__name__)

_IMAP_ERRORS = (IMAPClientError, OSError)
# What a connection the server closed under us raises (BYE, EOF, a broken pipe, a reset).
_DROPPED = (IMAPClientAbortError, OSError)
T = TypeVar("T")


def _tls_context(security: str, ca_file: str | None) -> ssl.SSLContext | None:
    """A certificate-checking TLS context, or None without TLS (building one costs ~30 ms)."""
    if security not in ("tls", "starttls"):
        return None
    return ssl.create_default_context(cafile=ca_file)


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
            if s.imap_tokens is not None:
                imap_xoauth2(client, s.imap_user, s.imap_tokens)
            else:
                client.login(s.imap_user, s.imap_password)
        except (*_IMAP_ERRORS, TransportError) as exc:
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
