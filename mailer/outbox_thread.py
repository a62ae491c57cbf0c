"""Sending while the tick composes: the outbox is flushed from a thread of its own.

A day's tick composes thousands of emails (CPU) and sends them (mostly waiting for the server's
four replies to each). Done one after the other, the waiting adds to the composing; here a
thread drains the outbox with ``outbox.flush`` while the tick's own thread goes on planning,
and is woken each time a batch of new emails is committed.

Nothing about how an email goes out changes: the thread runs the same ``flush`` the tick ran
between batches, with the same leases, pace, order (answers first), per-send records committed
the moment the server accepts, and ``unknown`` for what a kill leaves on the wire. Only one
flush runs at a time, so the pace is counted as before. The thread has its own SQLite
connection (a connection stays in the thread that opened them); the tick's thread stores each
batch in a short transaction after composing it (``outbox.build_one``), so neither keeps the
other from writing for long. The transport is used by this thread alone until it ends.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from typing import Callable, Iterator

from sqlite_utils import Database

from mailer import outbox
from mailer.config import Settings
from mailer.store import file_of, open_again
from mailer.transports.base import Transport

log = logging.getLogger(__name__)

# While both threads run, the one that waits for the server takes the interpreter back this
# soon after its reply arrives (Python's default is 5 ms: four replies an email would each
# wait that long behind the composing thread, slower than not overlapping at all).
SWITCH_SECONDS = 0.00005


class Flusher:
    """Flushes the outbox in a thread until ``finish``; ``committed`` wakes it for new emails."""

    def __init__(self, path: str, transport: Transport, now: datetime, settings: Settings, owner: str,
                 clock: Callable[[], datetime] | None, should_stop: Callable[[], bool],
                 progress: Callable[[int], None], into: outbox.FlushResult) -> None:
        """Nothing runs until ``start``."""
        self.path, self.transport, self.now, self.settings, self.owner = path, transport, now, settings, owner
        self.clock, self.should_stop, self.progress, self.into = clock, should_stop, progress, into
        self.seconds = 0.0  # time spent flushing (it overlaps the composing)
        self.error: BaseException | None = None
        self._wake, self._done, self._stopping = threading.Event(), False, False
        self._thread = threading.Thread(target=self._run, name="outbox-flush", daemon=True)

    def start(self) -> None:
        """Start flushing (what is due already goes at once: answers to replies first)."""
        self._thread.start()

    def committed(self) -> None:
        """New emails were committed: flush again once the current flush ends."""
        self._wake.set()

    def finish(self) -> None:
        """Flush once more for what the last batch committed, wait for it, and raise what the
        thread raised, if anything."""
        self._done = True
        self._wake.set()
        self._thread.join()
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        """The tick failed: finish the send in hand, give back the rows claimed and not started
        (as a stop does), and wait; what the thread raised is only logged (the tick's error wins)."""
        self._stopping = self._done = True
        self._wake.set()
        self._thread.join()
        if self.error is not None:
            log.error("the outbox thread failed too: %s", self.error)

    def _stop(self) -> bool:
        return self._stopping or self.should_stop()

    def _run(self) -> None:
        try:
            db = open_again(self.path)
        except BaseException as exc:  # noqa: BLE001 - handed to the tick's thread by ``finish``
            self.error = exc
            return
        try:
            self._loop(db)
        except BaseException as exc:  # noqa: BLE001 - handed to the tick's thread by ``finish``
            self.error = exc
        finally:
            db.close()

    def _loop(self, db: Database) -> None:
        while True:
            self._wake.clear()  # then read: a ``finish`` in between is seen now or wakes the wait below
            last = self._done  # the flush after the last commit ends the loop
            if self._stopping:
                return
            started = time.perf_counter()
            outbox.flush(db, self.transport, self.now, self.settings, self.owner, self.clock,
                         self._stop, self.progress, into=self.into)
            self.seconds += time.perf_counter() - started
            if last:
                return
            self._wake.wait()


@contextmanager
def flushing(db: Database, transport: Transport, now: datetime, settings: Settings, owner: str,
             clock: Callable[[], datetime] | None, should_stop: Callable[[], bool],
             progress: Callable[[int], None], into: outbox.FlushResult) -> Iterator[Flusher | None]:
    """A started ``Flusher`` for the body of the block (finished at its end, also on an error),
    or None (the caller flushes itself) for a database in memory (one connection only) or a
    transport that does not say it may send from another thread (``sends_from_thread``: Graph
    and EWS keep their waits and positions in the database, through the tick's connection)."""
    path = file_of(db)
    if path is None or not getattr(transport, "sends_from_thread", False):
        yield None
        return
    flusher = Flusher(path, transport, now, settings, owner, clock, should_stop, progress, into)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, SWITCH_SECONDS))
    flusher.start()
    try:
        yield flusher
    except BaseException:
        flusher.abandon()
        raise
    else:
        flusher.finish()
    finally:
        sys.setswitchinterval(switch)
