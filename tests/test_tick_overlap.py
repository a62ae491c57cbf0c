"""Sending while the tick composes (issue 25: the whole day-1 tick over SMTP at 0.8 of smtplib).

A thread flushes the outbox while the tick's own thread plans and composes the day
(mailer/outbox_thread.py). These tests check that the two really overlap, that only transports
that say so are used from the thread, and that a failure or a kill -9 in the middle leaves
every email sent once, or in flight and settled as uncertain, as a flush alone does.
"""
from __future__ import annotations

import signal
import threading
from datetime import datetime, timedelta, timezone

import pytest

from mailer import worker
from mailer.config import load_settings
from mailer.errors import StoreError
from mailer.faults import KILL_AT
from mailer.flows.base import PlannedEmail
from mailer.flows.challenge.definition import start_challenge
from mailer.store import open_db, people
from mailer.store import outbox as outbox_store
from mailer.transports.maildir import MaildirTransport
from tests.test_challenge_e2e import challenge_file
from tests.test_inbox_crash import tick as tick_process
from tests.conftest import write_rig_home
from tests.test_worker import sent_mail
from tests.test_worker_crash import message_ids_in

START = datetime(2027, 1, 3, 0, 0, tzinfo=timezone.utc)  # the day before day 1 (devops-30.toml)
DAY1 = START + timedelta(days=1, hours=12)  # 12:00 UTC: day 1 is due for everyone in UTC
MEMBERS = 250  # three batches of plans (worker.PLAN_BATCH)


def challenge_of(db, tmp_path, addresses: list[str]) -> None:
    with db.atomic():
        for n, address in enumerate(addresses):
            people.add_person(db, address, f"Member {n}", "UTC")
    start_challenge(db, challenge_file(tmp_path, addresses), START)


class WaitingMaildir(MaildirTransport):
    """A Maildir transport whose first send waits until the tick has committed a second batch of
    plans: it can only get there if the tick composes while a send is under way."""

    def __init__(self, root, composed: threading.Event) -> None:
        super().__init__(root)
        self.composed, self.overlapped = composed, None
        self.threads: set[str] = set()

    def _wait_once(self) -> None:
        self.threads.add(threading.current_thread().name)
        if self.overlapped is None:
            self.overlapped = self.composed.wait(60)  # an event, not a clock

    def send(self, mail) -> None:
        self._wait_once()
        super().send(mail)

    def send_batch(self, mails):
        """The outbox hands Maildir a claimed batch at once (one flush to disk a batch)."""
        self._wait_once()
        return super().send_batch(mails)


def count_batches(monkeypatch, composed: threading.Event) -> list[int]:
    """Wrap the tick's batch store: ``composed`` is set once two batches are committed."""
    real, stored = worker._enqueue_batch, []

    def counting(*args, **kwargs) -> int:
        stored.append(real(*args, **kwargs))
        if len(stored) == 2:
            composed.set()
        return stored[-1]

    monkeypatch.setattr(worker, "_enqueue_batch", counting)
    return stored


def test_the_day_is_composed_while_its_first_email_is_being_sent(db, settings, tmp_path, monkeypatch):
    challenge_of(db, tmp_path, [f"m{n:03d}@corp.example.com" for n in range(MEMBERS)])
    composed = threading.Event()
    transport = WaitingMaildir(settings.mail_dir, composed)
    worker.tick(db, transport, START + timedelta(hours=1), settings, "w")  # the announcements
    transport.overlapped = None
    stored = count_batches(monkeypatch, composed)

    result = worker.tick(db, transport, DAY1, settings, "w")
    assert transport.overlapped is True, "the first day email's send waited and nothing more was composed"
    assert len(stored) == 3 and sum(stored) == MEMBERS
    assert result.sent == result.enqueued == MEMBERS
    assert outbox_store.counts(db) == {"sent": 2 * MEMBERS}
    assert transport.threads == {"outbox-flush"}
    assert set(result.seconds) == {"inbound", "planning", "sending", "after_planning"}


class Recording:
    """A transport that keeps what it is given and says nothing about threads."""

    kind = "recording"
    keeps_sent = False
    calendar = None
    max_message_bytes = None

    def __init__(self) -> None:
        self.threads: list[str] = []

    def send(self, mail) -> None:
        self.threads.append(threading.current_thread().name)

    def fetch(self):
        return iter(())

    def find_sent(self, message_id: str) -> None:
        return None

    def close(self) -> None:
        pass


def test_a_transport_that_does_not_say_it_may_send_from_a_thread_sends_from_the_ticks(db, settings, tmp_path):
    challenge_of(db, tmp_path, [f"m{n:03d}@corp.example.com" for n in range(MEMBERS)])
    transport = Recording()
    worker.tick(db, transport, START + timedelta(hours=1), settings, "w")
    result = worker.tick(db, transport, DAY1, settings, "w")
    assert result.sent == MEMBERS and len(transport.threads) == 2 * MEMBERS
    assert set(transport.threads) == {threading.current_thread().name}


class FailingFlow:
    """A flow that plans a batch, then finds the database unwritable (StoreError stops a tick)."""

    __name__ = "mailer.flows.failing.flow"

    @staticmethod
    def due(db, now, settings):
        for n in range(worker.PLAN_BATCH):
            yield PlannedEmail(key=f"f:{n}", to="ann@example.test", subject=str(n), template="system/unrouted",
                               context={"their_subject": str(n)})
        raise StoreError("database is locked (test)")


def test_a_tick_that_fails_while_sending_leaves_no_email_half_claimed(db, settings, monkeypatch):
    people.add_person(db, "ann@example.test", "Ann", "UTC")
    monkeypatch.setattr(worker, "FLOWS", [FailingFlow])
    transport = MaildirTransport(settings.mail_dir)
    with pytest.raises(StoreError, match="test"):
        worker.tick(db, transport, DAY1, settings, "w")
    counts = outbox_store.counts(db)
    assert "sending" not in counts, "a row claimed by the thread was left leased"
    assert counts.get("sent", 0) + counts.get("pending", 0) == worker.PLAN_BATCH
    assert len(sent_mail(settings)) == counts.get("sent", 0)


@pytest.mark.rig
@pytest.mark.slow
def test_kill_9_half_way_through_planning_the_day_loses_nothing(mail_rig, rig_users, tmp_path):
    alice = rig_users["alice"]
    home = write_rig_home(tmp_path / "home", mail_rig, rig_users["mailer"], outbox={"lease_seconds": 5})
    db = open_db(load_settings(home, env={}).db_path)
    local, domain = alice.address.split("@")
    challenge_of(db, tmp_path, [f"{local}+m{n:03d}@{domain}" for n in range(MEMBERS)])
    announced = tick_process(home, START + timedelta(hours=1))
    _, err = announced.communicate(timeout=300)
    assert announced.returncode == 0, err.decode()

    killed = tick_process(home, DAY1, {KILL_AT: "planned@2"})  # two batches stored, the thread sending
    _, err = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, err.decode()
    outbox_store.settle_sent(db)  # what the restart does first
    in_flight = {r["message_id"] for r in outbox_store.list_rows(db, "sending", 10 * MEMBERS)}
    day1 = "SELECT count(*) FROM outbox WHERE key GLOB 'challenge:*:day:1:*'"
    assert db.execute(day1).fetchone()[0] == 2 * worker.PLAN_BATCH < MEMBERS  # the third batch was never stored

    restarted = tick_process(home, DAY1 + timedelta(minutes=1))
    _, err = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, err.decode()
    assert db.execute(day1).fetchone()[0] == MEMBERS
    assert outbox_store.counts(db) == {"sent": 2 * MEMBERS}
    delivered = message_ids_in(mail_rig, alice)
    expected = {r[0] for r in db.execute("SELECT message_id FROM outbox")}
    assert set(delivered) == expected, "an email was lost"
    assert {mid for mid, n in delivered.items() if n > 1} <= in_flight, "only an email in flight may arrive twice"
    assert max(delivered.values()) <= 2
