"""The worker: ``schedule`` wakes it; each wake is one ``tick(now)``.

A tick fetches and processes the inbox, asks every flow what is due by ``now``, enqueues it,
and flushes the outbox at the configured pace. The database decides what is due, so a worker
that was down catches up and one that ticks twice sends nothing twice.
"""
from __future__ import annotations

import itertools
import logging
import os
import signal
import socket
import sqlite3
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Iterator

import schedule
from sqlite_utils import Database

from mailer import inbox, outbox, outbox_thread, retention
from mailer.config import Settings
from mailer.errors import LocalFileError, StoreError, TransportError
from mailer.faults import kill_point
from mailer.flows.base import PlannedEmail
from mailer.flows.registry import FLOWS
from mailer.store import planning
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
    outcomes: dict[str, int] = field(default_factory=dict)  # handled messages per outcome (inbox)
    # wall time per stage: inbound, planning, sending (overlapping planning), after_planning (the
    # wait for the last sends)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Plain data for ``--json``."""
        return asdict(self)


def worker_id() -> str:
    """A lease owner name unique to this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


PLAN_BATCH = 100  # plans composed, then committed together; the outbox thread is woken after each batch


def plan_due(db: Database, now: datetime, settings: Settings, result: TickResult | None = None,
             between: Callable[[], None] = lambda: None) -> int:
    """Ask each flow what should have gone out by ``now``; enqueue it; return how many were new.

    Plans are built and committed in batches, and ``between`` runs after each (the tick's: it
    wakes the outbox thread, or flushes), so the first emails leave while the rest of a large
    day is still being composed.
    A flow that raises and a plan that cannot be built are recorded and skipped: nothing
    one row does may stop anyone else's mail.
    """
    result = result or TickResult(now=now.isoformat())
    new = 0
    for flow in FLOWS:
        name = flow.__name__.rsplit(".", 2)[-2] if "." in flow.__name__ else flow.__name__
        try:
            for batch in _batches(flow.due(db, now, settings), PLAN_BATCH):
                new += _enqueue_batch(db, batch, now, settings, result)
                between()
        except (StoreError, sqlite3.Error):
            raise  # a database that cannot be written stops the worker with a clear error
        except Exception as exc:  # noqa: BLE001 - one flow's failure must not stop the others
            log.exception("flow %s could not plan", name)
            planning.record_error(db, name, f"{type(exc).__name__}: {exc}", now)
            result.notes.append(f"flow {name} could not plan: {exc}")
        else:
            planning.clear_error(db, name)
    return new


def _batches(plans: Iterable[PlannedEmail], size: int) -> Iterator[tuple[PlannedEmail, ...]]:
    """Consecutive groups of ``size`` plans (the last one shorter); plans may be a generator."""
    it = iter(plans)
    while batch := tuple(itertools.islice(it, size)):
        yield batch


def _enqueue_batch(db: Database, batch: tuple[PlannedEmail, ...], now: datetime, settings: Settings,
                   result: TickResult) -> int:
    """Render a batch, then store it in one transaction; a plan that fails becomes a dead row.

    Composing writes nothing (``outbox.build_one``), so the write lock is held only while the
    batch is stored: the thread sending meanwhile (``outbox_thread``) records its sends meanwhile."""
    found = outbox.prefetch(db, batch)
    built: list[outbox.Built] = []
    failed: list[tuple[PlannedEmail, Exception]] = []
    for plan in batch:
        try:
            one = outbox.build_one(db, plan, now, settings, found)
        except (StoreError, sqlite3.Error):
            raise
        except Exception as exc:  # noqa: BLE001 - catch per message: set it aside, go on
            failed.append((plan, exc))
            continue
        if one is not None:
            built.append(one)
    with db.atomic():
        new = outbox.store_all(db, built, now, settings)
        for plan, exc in failed:
            log.warning("could not build %s: %s", plan.key, exc)
            outbox.set_aside(db, plan, now, f"could not build: {type(exc).__name__}: {exc}")
            result.dead += 1
            result.notes.append(f"{plan.key}: could not build: {exc}")
    kill_point("planned")  # crash tests: killed half-way through planning, with sends under way
    return new


def mirror_calendars(db: Database, transport: Transport, now: datetime, settings: Settings,
                     result: TickResult) -> None:
    """Bring native calendar events in line with the store, where the transport offers a calendar
    (Exchange or Graph with ``native_meetings``): flows that offer ``calendar_items(db, now)`` and
    ``mirror_calendar(db, calendar, item, now, settings)``. A failure is caught per item, noted
    and shown by ``status``; the next tick retries it."""
    calendar = getattr(transport, "calendar", None)
    if calendar is None:
        return
    for flow in (f for f in FLOWS if hasattr(f, "calendar_items")):
        failed = []
        for item in flow.calendar_items(db, now):
            try:
                note = flow.mirror_calendar(db, calendar, item, now, settings)
            except TransportError as exc:  # catch per item: the others still go
                log.warning("calendar: %s: %s", item.get("title"), exc)
                failed.append(f"{item.get('title')}: {exc}")
                continue
            if note:
                result.notes.append(f"calendar: {item.get('title')}: {note}")
        name = f"{flow.__name__.rsplit('.', 1)[-1]} calendar"
        if failed:
            planning.record_error(db, name, "; ".join(failed), now)
            result.notes += [f"calendar: {f}" for f in failed]
        else:
            planning.clear_error(db, name)


def next_send(db: Database, now: datetime) -> tuple[datetime, str] | None:
    """The earliest planned send after ``now`` any flow knows of (flows that offer
    ``next_send(db, now)``), with the time zone it is planned in; for the idle worker's line."""
    found = [moment for flow in FLOWS if hasattr(flow, "next_send") and (moment := flow.next_send(db, now))]
    return min(found) if found else None


def tick(db: Database, transport: Transport, now: datetime, settings: Settings, owner: str,
         clock: Callable[[], datetime] | None = None, should_stop: Callable[[], bool] = lambda: False,
         progress: Callable[[int], None] = lambda n: None) -> TickResult:
    """One pass: inbox, then what is due, while a thread flushes the outbox (``outbox_thread``)."""
    result = TickResult(now=now.isoformat())
    begin = time.perf_counter()
    box = inbox.InboxResult()
    try:
        inbox.receive(db, transport, now, settings, box)
    except TransportError as exc:  # a mailbox we cannot read must not stop the sending
        result.notes.append(f"could not read the inbox: {exc}")
    inbox.process(db, now, settings, box)  # what a failed read left stored but unhandled
    result.fetched, result.processed = box.fetched, box.done
    result.ignored, result.quarantined = box.ignored, box.quarantined
    result.outcomes = dict(box.outcomes)
    result.notes += box.notes
    retention.drop_expired_raw(db, transport, now, settings)
    mirror_calendars(db, transport, now, settings, result)  # before planning: it decides who mails invitations
    sent, received = outbox.FlushResult(), time.perf_counter()
    with outbox_thread.flushing(db, transport, now, settings, owner, clock, should_stop, progress, sent) as thread:
        flusher = thread or _InThread(lambda: outbox.flush(db, transport, now, settings, owner, clock, should_stop,
                                                           progress, into=sent))  # no thread: see flushing
        result.enqueued = box.answers + plan_due(db, now, settings, result, flusher.committed)
        planned = time.perf_counter()
        between = 0.0 if thread else flusher.seconds  # flushed in this thread between batches
        if thread is None:
            flusher.committed()  # the thread flushes once more as it finishes; this one, now
    result.seconds = {"inbound": received - begin, "planning": planned - received - between,
                      "sending": flusher.seconds, "after_planning": time.perf_counter() - planned}
    result.sent, result.retried, result.dead = sent.sent, sent.retried, result.dead + sent.dead
    result.unknown, result.held_by_pace = sent.unknown, sent.held_by_pace
    result.notes += sent.errors
    return result


class _InThread:
    """Flushing in the tick's own thread after each batch (``outbox_thread.Flusher``'s interface)."""

    def __init__(self, flush: Callable[[], object]) -> None:
        self.flush, self.seconds = flush, 0.0

    def committed(self) -> None:
        """Flush now."""
        started = time.perf_counter()
        self.flush()
        self.seconds += time.perf_counter() - started


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


def next_wake(db: Database, now: datetime, settings: Settings) -> datetime:
    """When the worker should tick next: at its interval, or sooner when the pace frees room
    for emails already due (so a paced queue goes exactly as fast as the limits allow)."""
    regular = now + timedelta(seconds=settings.worker_interval_seconds)
    paced = outbox.next_send_at(db, now, settings)
    return min(regular, max(paced, now + timedelta(seconds=1))) if paced else regular


def run_forever(db: Database, transport: Transport, settings: Settings,
                report: Callable[[TickResult], None], started: Callable[[], None] = lambda: None) -> None:
    """Wake every ``worker.interval_seconds`` (sooner when the pace frees room) and tick at the
    wall clock until stopped. ``started`` is called once SIGINT/SIGTERM are handled, before the
    first tick."""
    stopper, owner = Stopper(), worker_id()
    stopper.install()
    started()
    wall = lambda: datetime.now(timezone.utc)  # noqa: E731 - the one place the clock is read
    wake: list[datetime] = []

    def job() -> None:
        try:
            report(tick(db, transport, wall(), settings, owner, wall, stopper))
            wake[:] = [next_wake(db, wall(), settings)]
        except (StoreError, LocalFileError, sqlite3.Error):
            raise  # a database or a mail folder that cannot be written stops the worker with a clear error
        except Exception:  # noqa: BLE001 - keep the loop alive; the next wake retries
            log.exception("tick failed")

    schedule.every(settings.worker_interval_seconds).seconds.do(job)
    try:
        job()
        while not stopper():
            schedule.run_pending()
            if wake and wall() >= wake[0]:
                job()
            time.sleep(0.2)
    finally:
        schedule.clear()
        transport.close()
