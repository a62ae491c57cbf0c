"""Reminders and expiry on an injected clock: one reminder to those who have not answered, none
to someone who has; at the deadline the charter expires and the proposer is told."""
from __future__ import annotations

from datetime import datetime, timedelta

from mailer.flows.charter import lifecycle
from mailer.store import charters
from tests.flows.charter.conftest import SUBMITTED, UTC, charter_toml, keys, make_world

H = timedelta(hours=1)


def test_one_reminder_to_who_has_not_answered_then_expiry(world, write_charter):
    cid = lifecycle.submit(world.db, write_charter(charter_toml(approvers=("priya", "omar", "kenji"))), SUBMITTED)
    world.tick(SUBMITTED)
    world.reply("priya@corp.example.com", "Approved", SUBMITTED + H)
    # deadline Wed 20 Jan 2027 (Berlin); reminders from the morning of 17 Jan, hour by hour to 22 Jan
    world.walk(datetime(2027, 1, 16, 0, tzinfo=UTC), datetime(2027, 1, 22, 0, tzinfo=UTC), H)
    reminded = keys(world.db, ":remind:")
    assert len(reminded) == 2  # Omar and Kenji, once each; never Priya, who answered
    assert not [k for k in reminded if k.endswith(f"person:{world.db['people'].get(4)['id']}")]
    first = min(r["created_at"] for r in world.db.query("SELECT * FROM outbox JOIN outbox_data USING (id) WHERE key LIKE '%:remind:%'"))
    assert first == "2027-01-17T00:00:00+00:00"  # 09:00 in Tokyo (Kenji), three days before
    c = charters.get_charter(world.db, cid)
    assert c["status"] == "expired" and c["status_at"] == datetime(2027, 1, 20, 23, tzinfo=UTC)
    (told,) = [r for r in world.rows_to("lead@corp.example.com") if "expired" in r["subject"]]
    assert b"due Wed 20 Jan 2027" in told["data"].replace(b"=\r\n", b"")
    assert not [r for r in world.rows_to("alice@corp.example.com") if "expired" in r["subject"]]


def test_remind_days_before_zero_sends_no_reminder(home, write_charter):
    world = make_world(home, "[approvals]\nremind_days_before = 0\n")
    lifecycle.submit(world.db, write_charter(), SUBMITTED)
    world.walk(SUBMITTED, datetime(2027, 1, 22, tzinfo=UTC), 6 * H)
    assert keys(world.db, ":remind:") == [] and len(keys(world.db, ":outcome:")) == 1


def test_a_late_answer_after_expiry_changes_nothing(world, write_charter):
    cid = lifecycle.submit(world.db, write_charter(), SUBMITTED)
    world.walk(SUBMITTED, datetime(2027, 1, 21, tzinfo=UTC), 12 * H)
    world.reply("omar@corp.example.com", "Approved", datetime(2027, 1, 21, 9, tzinfo=UTC),
                subject_part="Approval requested")
    assert charters.get_charter(world.db, cid)["status"] == "expired"
    assert charters.decisions(world.db, cid) == []
