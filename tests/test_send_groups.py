"""Sends recorded in committed groups (mailer/outbox_sent.py), killed with kill -9 over the real
SMTP rig between the server's answers and the group's commit.

The sends the server accepted and we had not recorded yet are still ``sending`` after the kill;
the next tick makes them ``unknown`` and settles them against the Sent folder. Without one (a
relay keeps no copy) exactly those are sent again, with the same Message-ID; with one, nothing
arrives twice. Nothing is lost either way.
"""
from __future__ import annotations

import signal
from datetime import timedelta

import pytest

from mailer.faults import KILL_AT
from mailer.outbox_sent import GROUP
from mailer.store import outbox as outbox_store
from tests.test_inbox_crash import tick
from tests.test_worker_crash import T0, message_ids_in, queued

COUNT = 300
KILLED_AT = 135  # the 135th send answered: its group (from the 121st) is not recorded yet


def killed_mid_group(tmp_path, rig, users, **sections):
    """Queue COUNT emails, kill the tick just after the server accepted the KILLED_AT-th: the
    database, what reached alice, and the rows still ``sending``."""
    home, settings, db = queued(tmp_path, rig, users, COUNT, outbox={"lease_seconds": 5, "batch": 5000}, **sections)
    killed = tick(home, T0, {KILL_AT: f"sent@{KILLED_AT}"})
    _, err = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, err.decode()
    sending = {r["message_id"] for r in outbox_store.list_rows(db, "sending", COUNT)}
    return home, db, message_ids_in(rig, users["alice"]), sending


def restart(home) -> None:
    restarted = tick(home, T0 + timedelta(minutes=1))  # the leases (5 s) have run out
    _, err = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, err.decode()


def all_ids(db) -> set[str]:
    return {r[0] for r in db.execute("SELECT message_id FROM outbox")}


@pytest.mark.rig
@pytest.mark.slow
def test_a_kill_before_a_group_is_recorded_resends_only_that_group(mail_rig, rig_users, tmp_path):
    home, db, before, sending = killed_mid_group(tmp_path, mail_rig, rig_users)
    assert sum(before.values()) == KILLED_AT and set(before.values()) == {1}
    recorded = outbox_store.counts(db)["sent"]
    unrecorded = set(before) & sending  # accepted by the server, not yet recorded by us
    assert 0 < len(unrecorded) < GROUP and recorded + len(unrecorded) == KILLED_AT
    assert not set(before) - sending - {r["message_id"] for r in outbox_store.list_rows(db, "sent", COUNT)}

    restart(home)
    assert outbox_store.counts(db) == {"sent": COUNT}
    delivered = message_ids_in(mail_rig, rig_users["alice"])
    assert set(delivered) == all_ids(db), "an email was lost"
    assert {mid for mid, n in delivered.items() if n > 1} == unrecorded, "only the unrecorded group goes twice"
    assert max(delivered.values()) == 2


@pytest.mark.rig
@pytest.mark.slow
def test_a_kill_before_a_group_is_recorded_sends_nothing_twice_with_a_sent_folder(mail_rig, rig_users, tmp_path):
    home, db, before, sending = killed_mid_group(tmp_path, mail_rig, rig_users, imap={"sent_folder": "Sent"})
    keep_sent_copies(mail_rig, rig_users)
    assert set(before) & sending

    restart(home)
    assert outbox_store.counts(db) == {"sent": COUNT}
    delivered = message_ids_in(mail_rig, rig_users["alice"])
    assert set(delivered) == all_ids(db), "an email was lost"
    assert set(delivered.values()) == {1}, "an email found in the Sent folder went again"


def keep_sent_copies(rig, users) -> None:
    """File a copy of everything delivered to alice in the mailer's Sent folder, as Gmail and
    Exchange Online keep a copy of each message submitted over SMTP."""
    with rig.imap_client(users["alice"]) as client:
        client.select_folder("INBOX", readonly=True)
        copies = [data[b"BODY[]"] for data in client.fetch(client.search("ALL"), ["BODY.PEEK[]"]).values()]
    with rig.imap_client(users["mailer"]) as client:
        if not client.folder_exists("Sent"):
            client.create_folder("Sent")
        for copy in copies:
            client.append("Sent", copy)
