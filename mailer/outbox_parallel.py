"""Sending a claimed batch over several connections at once (``[smtp] connections = N``).

Only the sends run in threads; every outcome is recorded by the calling thread, which owns the
database connection (SQLite connections stay in the thread that opened them). Each row is
handed to exactly one thread once, so an email goes once, as with one connection. A kill in the
middle leaves the rows in flight ``sending``; the next flush makes them ``unknown`` and settles
them like any other uncertain send (mailer/outbox.py ``_reconcile``).
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from datetime import datetime
from typing import Callable

from sqlite_utils import Database

from mailer import outbox
from mailer.config import Settings
from mailer.errors import PermanentSendError, TemporarySendError, TooLargeError, UncertainSendError
from mailer.faults import kill_point
from mailer.store import outbox as store
from mailer.transports.base import Outgoing, Transport

SendError = TemporarySendError | PermanentSendError | UncertainSendError


def attempt(transport: Transport, mail: Outgoing) -> SendError | None:
    """Send once (in a worker thread): the error the transport raised, or None when accepted."""
    try:
        transport.send(mail)
    except (TemporarySendError, PermanentSendError, UncertainSendError) as exc:
        return exc
    return None


def send_rows(db: Database, transport: Transport, rows: list[dict], owner: str, clock: Callable[[], datetime],
              settings: Settings, result: outbox.FlushResult, should_stop: Callable[[], bool],
              progress: Callable[[int], None]) -> datetime | None:
    """Send claimed ``rows`` over ``transport.parallel`` connections and record each outcome;
    return when to try again if the server asked us to wait (rows not yet started then wait
    untried, as they do when a stop is asked for).

    A row over the transport's size limit, or refused as too big, takes the one-connection
    path (``outbox._send_one``), which leaves its attachments off."""
    try:
        limit = transport.max_message_bytes  # asked once (connecting), before any thread sends
    except TemporarySendError as exc:  # the relay cannot be reached: every row is tried again later
        for row in rows:
            outbox.record(db, row, owner, clock(), settings, result, exc)
        return None
    big = [row for row in rows if limit is not None and len(row["data"]) > limit]
    small = [row for row in rows if limit is None or len(row["data"]) <= limit]
    busy: datetime | None = None
    with ThreadPoolExecutor(transport.parallel, thread_name_prefix="send") as pool:
        futures = {pool.submit(attempt, transport, outbox.outgoing(row, settings)): row
                   for row in small}
        held: set[Future] = set()
        for future in as_completed(futures):
            if future in held:
                continue
            row, error = futures[future], future.result()
            if isinstance(error, TooLargeError):
                big.append(row)
                continue
            busy = outbox.record(db, row, owner, clock(), settings, result, error) or busy
            kill_point("sent")  # crash tests: killed with other sends still in flight
            progress(1)
            if not held and (busy is not None or should_stop()):
                held = _hold_back(db, futures, owner, busy, clock())
    for row in big:  # shrunk and sent one at a time
        if busy is not None or should_stop():
            _give_back(db, row, owner, busy, clock())
        else:
            busy = outbox._send_one(db, transport, row, owner, clock(), settings, result)
            progress(1)
    return busy


def _hold_back(db: Database, futures: dict[Future, dict], owner: str, busy: datetime | None,
               now: datetime) -> set[Future]:
    """Cancel the sends not yet started and give their rows back untried; the cancelled futures."""
    held = {future for future in futures if future.cancel()}
    for future in held:
        _give_back(db, futures[future], owner, busy, now)
    return held


def _give_back(db: Database, row: dict, owner: str, busy: datetime | None, now: datetime) -> None:
    if busy is not None:  # the server asked us to wait: the rest waits untried
        store.postpone(db, row["id"], owner, busy, "server busy: waiting as it asked")
    else:  # a stop was asked for
        store.finish(db, row["id"], owner, "pending", now, error=None)
