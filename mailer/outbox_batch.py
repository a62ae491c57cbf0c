"""Sending a claimed batch in one call, for a transport that writes a batch at once
(``send_batch``: the Maildir transport flushes a batch to disk once instead of once an email).

Every outcome is recorded as the one-by-one path records it (``outbox.record``), in the order
the rows were claimed (answers first), and only after the transport says the email is out: a
kill while the batch is written leaves its rows ``sending``; the next flush makes them
``unknown`` and settles each against what the transport holds (``find_sent``), as after a kill
in any send.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlite_utils import Database

from mailer import outbox
from mailer.config import Settings
from mailer.outbox_sent import SentGroup
from mailer.transports.base import Transport


def send_rows(db: Database, transport: Transport, rows: list[dict], owner: str, clock: Callable[[], datetime],
              settings: Settings, result: outbox.FlushResult, should_stop: Callable[[], bool],
              progress: Callable[[int], None], group: SentGroup | None = None) -> datetime | None:
    """Send claimed ``rows`` with one ``transport.send_batch`` and record each outcome (the sends
    with ``group``); return
    when to try again if the server asked us to wait. A row over the transport's size limit
    goes alone (``outbox._send_one`` leaves its attachments off). Rows not started because a
    stop was asked for, or the server asked us to wait, are given back untried."""
    limit = transport.max_message_bytes
    alone = [row for row in rows if limit is not None and len(row["data"]) > limit]
    together = [row for row in rows if limit is None or len(row["data"]) <= limit]
    busy: datetime | None = None
    if together and not should_stop():
        errors = transport.send_batch([outbox.outgoing(row, settings) for row in together])
        for row, error in zip(together, errors):
            busy = outbox.record(db, row, owner, clock(), settings, result, error, group) or busy
            progress(1)
        together = []
    for row in together + alone:
        if busy is not None or should_stop():
            outbox.give_back(db, row, owner, clock(), busy)
        else:
            busy = outbox._send_one(db, transport, row, owner, clock(), settings, result, group)
            progress(1)
    return busy

