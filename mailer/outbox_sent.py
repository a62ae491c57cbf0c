"""What became of a send: accepted ones recorded in small committed groups (not one commit
per email), uncertain ones settled against the transport's sent copies.

The server's 250 comes first, our record of it second: whatever the grouping, a kill between
the two leaves the row ``sending``, and the next flush makes it ``unknown`` and settles it
against the transport's sent copies (``find_sent``), or resends the same bytes, Message-ID and
all, where the transport keeps none (``reconcile``; RFC 1047: SMTP is at-least-once). A
group only widens that window from one email to at most ``GROUP`` emails or ``MAX_WAIT`` of
sending, and saves the sending thread a commit, a wait for the write lock (which the composing
thread holds while it stores a batch) and a handful of interpreter switches per email
(bench/README.md, branch send). Every group is committed before the flush claims again or
returns (an error included), so pacing counts the same sends as before.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlite_utils import Database

from mailer.errors import TransportError
from mailer.faults import kill_point
from mailer.store import outbox as store
from mailer.transports.base import Transport

if TYPE_CHECKING:
    from mailer.outbox import FlushResult

GROUP = 20  # sends recorded together at most; a kill may leave this many to settle as unknown
MAX_WAIT = timedelta(seconds=2)  # a slow server (paced, or far away) never holds a record longer


class SentGroup:
    """Sends the server accepted and not yet recorded, written together by ``commit``."""

    def __init__(self, db: Database, owner: str, size: int = GROUP) -> None:
        """Nothing is written until ``size`` sends are in or ``commit`` is called."""
        self.db, self.owner, self.size = db, owner, size
        self.sends: list[tuple[int, datetime]] = []

    def add(self, row_id: int, now: datetime) -> None:
        """Row ``row_id`` was accepted at ``now``: recorded with the next commit, which comes at
        once when the group is full or its first send is ``MAX_WAIT`` old."""
        self.sends.append((row_id, now))
        if len(self.sends) >= self.size or now - self.sends[0][1] >= MAX_WAIT:
            self.commit()

    def commit(self) -> None:
        """Record every send in hand (one statement, committed at once)."""
        if self.sends:
            sends, self.sends = self.sends, []
            store.record_sent_many(self.db, self.owner, sends)
            kill_point("recorded")  # crash tests: killed with a group just committed


def reconcile(db: Database, transport: Transport, now: datetime, result: FlushResult) -> None:
    """Settle 'unknown' rows: found in the Sent folder -> sent; otherwise resend the same bytes.

    SMTP is at-least-once (RFC 1047): when the transport cannot tell, we resend, and the same
    Message-ID lets the recipient's client collapse the duplicate.
    """
    for row in store.unknown_rows(db):
        try:
            found = transport.find_sent(row["message_id"])
        except TransportError as exc:  # cannot look now: leave them unknown until the next tick
            result.errors.append(f"could not check the Sent folder: {exc}")
            return
        if found:
            store.resolve_unknown(db, row["id"], "sent", now, "found in Sent folder")
        else:
            note = ("not in Sent folder: resending" if found is False
                    else "no sent copy to look in (a relay keeps none): resending the same bytes")
            store.resolve_unknown(db, row["id"], "pending", now, note)
        result.reconciled += 1
