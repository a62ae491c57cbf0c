"""The worker: ``schedule`` wakes it; each wake is one ``tick(now)``.

A tick fetches and processes the inbox, asks every flow what is due by ``now``, enqueues it,
and flushes the outbox at the configured pace. The database decides what is due, so a worker
that was down catches up and one that ticks twice sends nothing twice.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import sqlite3
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Callable

import schedule
from sqlite_utils import Database

from mailer import inbox, outbox
from mailer.config import Settings
from mailer.errors import StoreError, TransportError
from mailer.flows.registry import FLOWS
from mailer.transports.base import Transport

log = logging.getLogger(__name__)


@dataclass
class TickResult:
    """A summary of one tick, printed plainly or as JSON."""

    now: str
    fetched: int = 0
    processed: int = 0
    ignored: int = 0
    quarantined: int = 0
    enqueued: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    unknown: int = 0
    held_by_pace: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain data for ``--json``."""
        return asdict(self)


def worker_id() -> str:
    """A lease owner name unique to this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def plan_due(db: Database, now: datetime, settings: Settings) -> int:
    """Ask each flow what should have gone out by ``now``; enqueue it; return how many were new."""
    plans = [plan for flow in FLOWS for plan in flow.due(db, now, settings)]
    return outbox.enqueue(db, plans, now, settings)


def next_send(db: Database, now: datetime) -> tuple[datetime, str] | None:
    """The earliest planned send after ``now`` any flow knows of (flows that offer
    ``next_send(db, now)``), with the time zone it is planned in; for the idle worker's line."""
    found = [moment for flow in FLOWS if hasattr(flow, "next_send") and (moment := flow.next_send(db, now))]
    return min(found) if found else None


def tick(db: Database, transport: Transport, now: datetime, settings: Settings, owner: str,
         clock: Callable[[], datetime] | None = None, should_stop: Callable[[], bool] = lambda: False,
         progress: Callable[[int], None] = lambda n: None) -> TickResult:
    """One pass: inbox, then what is due, then the outbox."""
    result = TickResult(now=now.isoformat())
    box = inbox.InboxResult()
    try:
        inbox.receive(db, transport, now, settings, box)
    except TransportError as exc:  # a mailbox we cannot read must not stop the sending
        result.notes.append(f"could not read the inbox: {exc}")
    inbox.process(db, now, settings, box)  # what a failed read left stored but unhandled
    result.fetched, result.processed = box.fetched, box.done
    result.ignored, result.quarantined = box.ignored, box.quarantined
    result.notes += box.notes
    result.enqueued = box.answers + plan_due(db, now, settings)
    sent = outbox.flush(db, transport, now, settings, owner, clock, should_stop, progress)
    result.sent, result.retried, result.dead = sent.sent, sent.retried, sent.dead
    result.unknown, result.held_by_pace = sent.unknown, sent.held_by_pace
    result.notes += sent.errors
    return result


class Stopper:
    """Turns SIGINT/SIGTERM into a flag: the message in hand is finished, then we exit."""

    def __init__(self) -> None:
        self.stopping = False

    def install(self) -> None:
        """Route SIGINT and SIGTERM to this stopper."""
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def __call__(self) -> bool:
        return self.stopping


def run_forever(db: Database, transport: Transport, settings: Settings,
                report: Callable[[TickResult], None], started: Callable[[], None] = lambda: None) -> None:
    """Wake every ``worker.interval_seconds`` and tick at the wall clock until stopped.
    ``started`` is called once SIGINT/SIGTERM are handled, before the first tick."""
    stopper, owner = Stopper(), worker_id()
    stopper.install()
    started()
    wall = lambda: datetime.now(timezone.utc)  # noqa: E731 - the one place the clock is read

    def job() -> None:
        try:
            report(tick(db, transport, wall(), settings, owner, wall, stopper))
        except (StoreError, sqlite3.Error):
            raise  # a database that cannot be written stops the worker with a clear error
        except Exception:  # noqa: BLE001 - keep the loop alive; the next wake retries
            log.exception("tick failed")

    schedule.every(settings.worker_interval_seconds).seconds.do(job)
    try:
        job()
        while not stopper():
            schedule.run_pending()
            time.sleep(0.2)
    finally:
        schedule.clear()
        transport.close()
