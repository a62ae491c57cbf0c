"""Sending while the tick composes: the outbox is flushed from a thread of its own.

A day's tick composes thousands of emails (CPU) and sends them (mostly waiting for the server's
four replies to each). Done one after the other, the waiting adds to the composing; here a
thread drains the outbox with ``outbox.flush`` while the tick's own thread goes on planning,
one flush for each batch of new emails committed, as the tick flushed between batches.

Nothing about how an email goes out changes: the thread runs the same ``flush`` the tick ran
between batches, with the same leases, pace, order (answers first), sends recorded in small
committed groups (``outbox_sent``), and ``unknown`` for what a kill leaves on the wire or
unrecorded. Only one
flush runs at a time, so the pace is counted as before. The thread has its own SQLite
connection (a connection stays in the thread that opened it); the tick's thread stores each
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
    """Flushes the outbox in a thread from the first ``committed`` until ``finish``: one flush per
    committed batch, and one at the end, as the tick did between batches (each flush sends at
    most ``[outbox] batch``, so a tick sends no more than before). With nothing committed (an
    idle tick) no thread starts: ``finish`` flushes once in the calling thread."""

    def __init__(self, db: Database, path: str, transport: Transport, now: datetime, settings: Settings,
                 owner: str, clock: Callable[[], datetime] | None, should_stop: Callable[[], bool],
                 progress: Callable[[int], None], into: outbox.FlushResult) -> None:
        """Nothing runs until the first ``committed`` (or ``finish``)."""
        self.db, self.path, self.transport, self.now, self.settings = db, path, transport, now, settings
        self.owner, self.clock, self.should_stop, self.progress, self.into = owner, clock, should_stop, progress, into
        self.seconds = 0.0  # time spent flushing (in the thread it overlaps the composing)
        self.error: BaseException | None = None
        self._owed, self._done, self._stopping = 0, False, False  # flushes asked for and not yet begun
        self._turn = threading.Condition()
        self._thread: threading.Thread | None = None
        self._switch = sys.getswitchinterval()

    def committed(self) -> None:
        """New emails were committed: one more flush (the first starts the thread)."""
        with self._turn:
            self._owed += 1
            self._turn.notify()
        if self._thread is None:
            sys.setswitchinterval(min(self._switch, SWITCH_SECONDS))
            self._thread = threading.Thread(target=self._run, name="outbox-flush", daemon=True)
            self._thread.start()

    def finish(self) -> None:
        """Flush once more for what the last batch committed, wait for it, and raise what the
        thread raised, if anything."""
        if self._thread is None:
            self._flush(self.db, self.should_stop)
            return
        with self._turn:
            self._owed, self._done = self._owed + 1, True
            self._turn.notify()
        self._join()
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        """The tick failed: finish the send in hand, give back the rows claimed and not started
        (as a stop does), and wait; what the thread raised is only logged (the tick's error wins)."""
        if self._thread is None:
            return
        with self._turn:
            self._stopping = self._done = True
            self._turn.notify()
        self._join()
        if self.error is not None:
            log.error("the outbox thread failed too: %s", self.error)

    def _join(self) -> None:
        assert self._thread is not None
        self._thread.join()
        sys.setswitchinterval(self._switch)

    def _stop(self) -> bool:
        return self._stopping or self.should_stop()

    def _flush(self, db: Database, should_stop: Callable[[], bool]) -> None:
        started = time.perf_counter()
        outbox.flush(db, self.transport, self.now, self.settings, self.owner, self.clock,
                     should_stop, self.progress, into=self.into)
        self.seconds += time.perf_counter() - started

    def _run(self) -> None:
        try:
            db = open_again(self.path)
        except BaseException as exc:  # noqa: BLE001 - handed to the tick's thread by ``finish``
            self.error = exc
            return
        try:
            while self._next():
                self._flush(db, self._stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the tick's thread by ``finish``
            self.error = exc
        finally:
            db.close()

    def _next(self) -> bool:
        """Wait for a flush to be owed; False when none is left to do (or the tick failed)."""
        with self._turn:
            while not self._owed and not self._done and not self._stopping:
                self._turn.wait()
            if self._stopping or not self._owed:
                return False
            self._owed -= 1
            return True


@contextmanager
def flushing(db: Database, transport: Transport, now: datetime, settings: Settings, owner: str,
             clock: Callable[[], datetime] | None, should_stop: Callable[[], bool],
             progress: Callable[[int], None], into: outbox.FlushResult) -> Iterator[Flusher | None]:
    """A ``Flusher`` for the body of the block (finished at its end, abandoned on an error), or
    None (the caller flushes itself) for a database in memory (one connection only) or a
    transport that does not say it may send from another thread (``sends_from_thread``: Graph
    and EWS keep their waits and positions in the database, through the tick's connection)."""
    path = file_of(db)
    if path is None or not getattr(transport, "sends_from_thread", False):
        yield None
        return
    flusher = Flusher(db, path, transport, now, settings, owner, clock, should_stop, progress, into)
    try:
        yield flusher
    except BaseException:
        flusher.abandon()
        raise
    flusher.finish()
