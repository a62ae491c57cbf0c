"""Kill -9 the worker while it flushes 2,000 messages to a real SMTP server, then restart it."""
from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailer import outbox
from mailer.config import load_settings
from mailer.flows.base import PlannedEmail
from mailer.store import open_db, people
from mailer.store import outbox as outbox_store
from tests.conftest import write_rig_home

ROOT = Path(__file__).resolve().parents[1]
COUNT = 2000
T0 = datetime(2027, 1, 4, 9, 0, tzinfo=timezone.utc)


def tick(home: Path, now: datetime) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--home", str(home), "tick", "--json",
                             "--now", now.isoformat()], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def sent_count(db) -> int:
    return outbox_store.counts(db).get("sent", 0)


def message_ids_in(rig, user) -> collections.Counter:
    with rig.imap_client(user) as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        found = collections.Counter()
        for start in range(0, len(uids), 500):
            for data in client.fetch(uids[start:start + 500], ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]).values():
                header = next(v for k, v in data.items() if k.startswith(b"BODY"))
                found[header.decode().split(":", 1)[1].strip()] += 1
    return found


def queued(tmp_path, rig, users, count: int, **sections):
    """A rig home sending as ``mailer`` (``sections`` added to its mailer.toml) with ``count``
    emails to alice in the outbox: its home, settings and database."""
    mailer, alice = users["mailer"], users["alice"]
    home = write_rig_home(tmp_path / "home", rig, mailer, **sections)
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    people.add_person(db, alice.address, "Alice", "UTC")
    plans = [PlannedEmail(key=f"crash:{i}", to=alice.address, subject=f"Message {i}",
                          template="system/unrouted", context={"their_subject": str(i)}) for i in range(count)]
    assert outbox.enqueue(db, plans, T0, settings) == count
    return home, settings, db


@pytest.mark.rig
@pytest.mark.slow
def test_kill_9_mid_flush_delivers_everything_once(mail_rig, rig_users, tmp_path):
    home, settings, db = queued(tmp_path, mail_rig, rig_users, COUNT, outbox={"lease_seconds": 5, "batch": 5000})

    held = mail_rig.hold(after=200)  # the 201st message is delivered, then its answer waits
    worker = tick(home, T0)
    try:
        assert held.reached.wait(300), "the worker never reached message 201"  # an event, not a poll
        assert worker.poll() is None  # it waits for the server's answer: certainly mid-flush
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        held.release.set()
    in_flight = {r["message_id"] for r in outbox_store.list_rows(db, "sending", COUNT)}
    assert 0 < sent_count(db) < COUNT

    restarted = tick(home, T0 + timedelta(minutes=1))
    out, err = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, err.decode()
    assert outbox_store.counts(db) == {"sent": COUNT}

    delivered = message_ids_in(mail_rig, rig_users["alice"])
    expected = {outbox_store.get_row(db, i)["message_id"] for i in range(1, COUNT + 1)}
    assert set(delivered) == expected, "a message was lost"
    twice = {mid for mid, n in delivered.items() if n > 1}
    assert twice <= in_flight, "only a message in flight at the kill may arrive twice"
    assert all(n <= 2 for n in delivered.values())
