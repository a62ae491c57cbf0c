"""Sending a claimed batch over several connections at once (``[smtp] connections = N``).

Only the sends run in threads; every outcome is recorded by the calling thread, which owns the
database connection (SQLite connections stay in the thread that opened them). Each row is
handed to exactly one thread once, so an email goes once, as with one connection. A kill in the
middle leaves the rows in flight ``sending``; the next flush makes them ``unknown`` and settles
them like any other uncertain send (mailer/outbox_sent.py ``reconcile``).
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlite_utils import Database

from mailer import outbox
from mailer.config import Settings
from mailer.errors import PermanentSendError, TemporarySendError, TooLargeError, UncertainSendError
from mailer.faults import kill_point
from mailer.outbox_sent import SentGroup
from mailer.transports.base import Outgoing, Transport

SendError = TemporarySendError | PermanentSendError | UncertainSendError


def attempt(transport: Transport, mail: Outgoing) -> SendError | None:
    """Send once (in a worker thread): the error the transport raised, or None when accepted."""
    try:
        transport.send(mail)
    except (TemporarySendError, PermanentSendError, UncertainSendError) as exc:
        return exc
    return None


@dataclass
class _Flush:
    """What recording an outcome needs (the flush's own arguments)."""

    db: Database
    transport: Transport
    owner: str
    clock: Callable[[], datetime]
    settings: Settings
    result: outbox.FlushResult
    should_stop: Callable[[], bool]
    progress: Callable[[int], None]
    group: SentGroup | None = None

    def record(self, row: dict, error: SendError | None) -> datetime | None:
        """Record one outcome (see ``outbox.record``: a send with ``group``) and count it as progress."""
        busy = outbox.record(self.db, row, self.owner, self.clock(), self.settings, self.result, error, self.group)
        kill_point("sent")  # crash tests: killed with other sends still in flight, some not yet recorded
        self.progress(1)
        return busy

    def give_back(self, row: dict, busy: datetime | None) -> None:
        """A row not tried: it waits for the server (``busy``), or goes back to pending (a stop)."""
        outbox.give_back(self.db, row, self.owner, self.clock(), busy)


def send_rows(db: Database, transport: Transport, rows: list[dict], owner: str, clock: Callable[[], datetime],
              settings: Settings, result: outbox.FlushResult, should_stop: Callable[[], bool],
              progress: Callable[[int], None], group: SentGroup | None = None) -> datetime | None:
    """Send claimed ``rows`` over ``transport.parallel`` connections and record each outcome (the
    sends with ``group``);
    return when to try again if the server asked us to wait (rows not yet started then wait
    untried, as they do when a stop is asked for).

    A row over the transport's size limit, or refused as too big, takes the one-connection
    path (``outbox._send_one``), which leaves its attachments off."""
    flush = _Flush(db, transport, owner, clock, settings, result, should_stop, progress, group)
    try:
        limit = transport.max_message_bytes  # asked once (connecting), before any thread sends
    except TemporarySendError as exc:  # the relay cannot be reached: every row is tried again later
        for row in rows:
            outbox.record(db, row, owner, clock(), settings, result, exc)
        return None
    big = [row for row in rows if limit is not None and len(row["data"]) > limit]
    busy = _send_together(flush, [row for row in rows if limit is None or len(row["data"]) <= limit], big)
    for row in big:  # shrunk and sent one at a time
        if busy is not None or should_stop():
            flush.give_back(row, busy)
        else:
            busy = outbox._send_one(db, transport, row, owner, clock(), settings, result, group)
            progress(1)
    return busy


def _send_together(flush: _Flush, rows: list[dict], too_big: list[dict]) -> datetime | None:
    """Send ``rows`` from ``parallel`` threads, recording each outcome here as it comes; a row
    refused as too big is added to ``too_big``. After a wait asked for, or a stop, the sends not
    yet started are cancelled and their rows given back."""
    busy: datetime | None = None
    with ThreadPoolExecutor(flush.transport.parallel, thread_name_prefix="send") as pool:
        futures = {pool.submit(attempt, flush.transport, outbox.outgoing(row, flush.settings)): row for row in rows}
        held: set[Future] = set()
        for future in as_completed(futures):
            if future in held:
                continue
            row, error = futures[future], future.result()
            if isinstance(error, TooLargeError):
                too_big.append(row)
                continue
            busy = flush.record(row, error) or busy
            if not held and (busy is not None or flush.should_stop()):
                held = _cancel_rest(flush, futures, busy)
    return busy


def _cancel_rest(flush: _Flush, futures: dict[Future, dict], busy: datetime | None) -> set[Future]:
    """Cancel the sends not yet started and give their rows back untried; the cancelled ones."""
    held = {future for future in futures if future.cancel()}
    for future in held:
        flush.give_back(futures[future], busy)
    return held
