"""Several SMTP connections at once (``[smtp] connections = N``), for relays that allow them.

The outbox hands one message to each of ``parallel`` threads (mailer/outbox_parallel.py); each
thread takes a connection of its own from this pool for the whole send, so a connection never
carries two conversations at once. The wrapped transport's own SMTP session is the pool's
first connection (a relay counts every open connection), and reading, filing away and the Sent
folder stay the wrapped transport's (the pool is its sending half in a ``SplitTransport``).
"""
from __future__ import annotations

import queue
import threading

from mailer.transports.base import CheckLine, Outgoing
from mailer.transports.smtp_imap import SmtpImapTransport, _Smtp


class SmtpPool:
    """``connections`` SMTP sessions sending for one SMTP + IMAP transport: a sending half only,
    paired with its reader by ``split.SplitTransport``."""

    kind = "smtp"
    keeps_sent = False
    sends_from_thread = True  # the outbox may flush in a thread of its own (outbox_thread)

    def __init__(self, inner: SmtpImapTransport, connections: int) -> None:
        """Nothing connects until a send needs it."""
        self.inner = inner
        self.parallel = connections
        self.sessions = [inner._smtp] + [_Smtp(inner.settings) for _ in range(connections - 1)]
        self._idle: queue.SimpleQueue[_Smtp] = queue.SimpleQueue()
        for session in self.sessions:
            self._idle.put(session)
        self._size_lock = threading.Lock()
        self._size: tuple[int | None] | None = None

    @property
    def max_message_bytes(self) -> int | None:
        """The size the server announces, asked once on an idle connection (it does not change)."""
        with self._size_lock:
            if self._size is None:
                session = self._idle.get()
                try:
                    if session.conn is None:
                        session.conn = session.connect()
                    size = str(session.conn.esmtp_features.get("size", "")).strip()
                finally:
                    self._idle.put(session)
                self._size = (int(size) if size.isdigit() and int(size) > 0 else None,)
            return self._size[0]

    def send(self, mail: Outgoing) -> None:
        """Send on an idle connection (waiting for one if all are busy); safe from several threads."""
        session = self._idle.get()
        try:
            session.send(mail)
        finally:
            self._idle.put(session)

    def check(self) -> list[CheckLine]:
        """Log in to SMTP (sending nothing) and say how many connections sending will use."""
        from mailer.transports.smtp_imap_check import _check_smtp

        return [_check_smtp(self.inner.settings, self.sessions[0]),
                CheckLine("connections", True, f"sends over up to {self.parallel} SMTP connections at once; "
                          "each email still goes once")]

    def close(self) -> None:
        """QUIT every connection; safe to call twice."""
        for session in self.sessions:
            session.quit()
